import type { AwsClients } from '../aws/clients.js';
import type { LaunchPlan } from '../aws/launch.js';
import type { JobImageLaunch } from '../job-image/prepare-job-image.js';
import type { JobState } from '../job/state.js';
import type { Sleep } from '../sleep.js';
import type { Transport } from '../ssh/transport.js';
import type { StageContext } from './context.js';
import type { JobMultiplexer } from './prepare-mux.js';

/** Injectable parts of `prepareStage`. */
export interface PrepareOptions {
  /** @default clients for `[Fargate] Region`, created on first use */
  readonly clients?: AwsClients;
  /** @default SSH */
  readonly transport?: Transport;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  /** RunTask backoff: first pause. @default 5_000 */
  readonly launchBaseDelayMs?: number;
}

/** What prepare decided before any task: its checks passed, its plan, its state file and what it wrote there. */
export interface PlannedJob {
  readonly ctx: StageContext;
  /** The AWS clients, created (and the SDK loaded) on first use: a warm start needs them only after its claim. */
  readonly clients: () => Promise<AwsClients>;
  /** The job's RunTask plan, after its overrides and its image (when honoured), with its own public key. */
  readonly plan: LaunchPlan;
  /** The job's image and services (`[JobImages]`), when honoured: such a job is never warm. */
  readonly image?: JobImageLaunch;
  readonly path: string;
  /** The state before any task (written before the warm claim): the job's own key pair, SSH settings, deadline. */
  readonly initial: JobState;
  readonly deadline?: Date;
  readonly started: number;
  readonly transport: Transport;
  /** The job's SSH multiplexer, started early when a warm task may serve the job. */
  readonly mux: JobMultiplexer;
  readonly sleep: Sleep;
  readonly now: () => number;
}
