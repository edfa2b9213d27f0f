import type { JobRecord } from '../metrics/job-record.js';

/** The states of a pool entry, each a subdirectory of the pool's directory. */
export const ENTRY_STATES = ['pending', 'ready', 'claimed', 'draining'] as const;
export type EntryState = (typeof ENTRY_STATES)[number];

/**
 * One pool task, as a JSON file (mode 0600) in `<directory>/<pool>/<state>/`. Holds the task's private key: only
 * the runner's user may read it, and it is removed with the task.
 */
export interface PoolEntry {
  readonly version: 1;
  /** `[[Pool]] Name`. */
  readonly pool: string;
  /** `pool-key.ts`: which jobs may use the task. */
  readonly poolKey: string;
  /** `pool-key.ts`: the configuration it was started under; another one drains it. */
  readonly configHash: string;
  readonly cluster: string;
  readonly region?: string;
  /** Names the pending entry; the seed of RunTask's client token. */
  readonly fillId: string;
  /** Set as soon as RunTask returns. */
  readonly taskArn?: string;
  /** Private address the keeper's readiness probe reached. */
  readonly address?: string;
  readonly port: number;
  readonly username: string;
  /** The task's own ed25519 private key (OpenSSH format). */
  readonly privateKey: string;
  readonly publicKey: string;
  /** Host key (base64 of the blob) pinned at readiness; a claimer refuses any other. */
  readonly hostKey?: string;
  /** ISO time the keeper wrote the pending entry (just before RunTask). */
  readonly launchedAt: string;
  /** Epoch seconds: the task's `GITLAB_FARGATE_IDLE_DEADLINE`; unclaimed, it stops itself then. */
  readonly idleDeadline: number;
  /** ISO time the task answered SSH. */
  readonly readyAt?: string;
  /**
   * What ECS said about the task while the keeper started it (`metrics/observe.ts`): its size, capacity and
   * architecture for the job's cost, and ECS's timestamps. Absent in entries of older keepers: a job that claims one
   * has no cost in its log.
   */
  readonly observed?: JobRecord;
}

/** An entry and the file it was read from. */
export interface StoredEntry {
  readonly entry: PoolEntry;
  readonly state: EntryState;
  readonly path: string;
}

/** The task ID (last ARN part) of an entry, or undefined before RunTask returned. */
export function taskIdOf(entry: PoolEntry): string | undefined {
  return entry.taskArn === undefined ? undefined : entry.taskArn.slice(entry.taskArn.lastIndexOf('/') + 1);
}
