import type { FaultOptions } from '../faults/faults.js';
import type { ThrottlingOptions } from '../faults/throttling.js';
import type { PhaseDurations } from '../lifecycle/phases.js';

/** One task state change, as the CLI prints it and `onTaskStateChange` receives it. */
export interface TaskStateChange {
  readonly at: Date;
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly capacityProviderName?: string;
}

/** Settings of an emulator instance. Everything is optional. */
export interface EmulatorOptions {
  /** TCP port of the API; 0 picks a free one (read it from `endpoint`). @default 0 */
  readonly port?: number;
  /** Address the API listens on. @default '127.0.0.1' */
  readonly host?: string;
  /** Region in ARNs and availability zones. @default 'us-east-1' */
  readonly region?: string;
  /** Account id in ARNs. @default '123456789012' */
  readonly accountId?: string;
  /** Durations of the timed task states. @default DEFAULT_PHASES (100/100/50/50/50 ms) */
  readonly phases?: Partial<PhaseDurations>;
  /** How long STOPPED tasks stay describable before DescribeTasks reports them MISSING. @default 3600000 (1 h, as AWS) */
  readonly stoppedRetentionMs?: number;
  /** Seconds between SIGTERM and SIGKILL for containers without `stopTimeout` (Fargate's default). @default 30 */
  readonly defaultStopTimeoutSeconds?: number;
  /**
   * When above 0, ACTIVATING waits (up to this long) until the task's TCP ports accept connections, so RUNNING
   * means connectable, which is kinder than AWS. 0 reports RUNNING as soon as the containers started, as on
   * AWS, where sshd may not listen yet. @default 0
   */
  readonly portReadinessTimeoutMs?: number;
  /** API throttling with AWS's token buckets. @default { enabled: true } with AWS's figures */
  readonly throttling?: ThrottlingOptions;
  /** Injected faults. @default {} (none) */
  readonly faults?: FaultOptions;
  /** Docker Engine API socket. @default '/var/run/docker.sock' */
  readonly dockerSocket?: string;
  /** Second octet of task addresses 127.<block>.y.z. @default a block no running container publishes on */
  readonly loopbackBlock?: number;
  /** Apply task/container cpu and memory as Docker limits. @default true */
  readonly applyResourceLimits?: boolean;
  /**
   * Image of the network holder every task gets (it runs `sleep infinity` and owns the task's network namespace and
   * published ports). @default 'local/debian:bookworm'
   */
  readonly holderImage?: string;
  /** On start, remove containers left by emulators whose process is gone. @default true */
  readonly removeOrphans?: boolean;
  /** Called after every task state change. */
  readonly onTaskStateChange?: (change: TaskStateChange) => void;
}

/** The options a JSON config file may hold (functions excluded). */
export type EmulatorConfigFile = Omit<EmulatorOptions, 'onTaskStateChange'>;
