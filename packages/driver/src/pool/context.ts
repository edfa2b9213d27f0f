import type { DriverConfig } from '@gitlab-fargate/config';
import type { AwsClients } from '../aws/clients.js';
import type { JobEnvironment } from '../job/environment.js';
import type { Logger } from '../log.js';
import type { Sleep } from '../sleep.js';
import type { Transport } from '../ssh/transport.js';
import type { PoolMetrics } from './metrics.js';

/** What the keeper works with; tests build their own. */
export interface KeeperContext {
  readonly config: DriverConfig;
  /** `[PoolSettings] Directory`. */
  readonly root: string;
  /** The runner's identity (startedBy) and this manager's ID (the `gitlab-fargate:manager` tag). */
  readonly env: JobEnvironment;
  /** The manager tag value: `env.managerId`, or a host-derived ID outside ECS. */
  readonly managerId: string;
  readonly clients: AwsClients;
  readonly transport: Transport;
  readonly log: Logger;
  /** Aborted on SIGTERM: fills in flight stop their tasks and remove their entries. */
  readonly signal: AbortSignal;
  readonly sleep: Sleep;
  readonly now: () => number;
  readonly metrics: PoolMetrics;
}
