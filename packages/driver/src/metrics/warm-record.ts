import { type JobRecord, readJobRecord } from './job-record.js';

/**
 * What a warm job takes from its pool task's observed record: what the cost needs. Not ECS's timestamps: they tell
 * the pool task's start, long before this job's prepare, and would make its start's parts (image pull, readiness
 * lag) the pool's.
 */
const INHERITED_KEYS = ['cpu', 'memoryMiB', 'ephemeralGiB', 'capacity', 'architecture'] as const;

/** What {@link warmJobRecord} needs: the claimed entry's `observed` and `readyAt`, and the job's own times (ms). */
export interface WarmRecordInput {
  /** The pool entry's `observed` (`metrics/observe.ts` in the keeper); absent in an older keeper's entry. */
  readonly observed?: unknown;
  /** The entry's `readyAt`: when the pool task first answered SSH. */
  readonly poolReadyAt?: string | undefined;
  /** When the job claimed the task. */
  readonly claimedAt: number;
  /** When the job owned the task (its in-task lock taken). */
  readonly readyAt: number;
}

/**
 * The job's record for a warm start (the state's `metrics`): the task's size, capacity and architecture as the keeper
 * observed them, the claim (the job's cost counts from there) and the readiness. A malformed `observed` is dropped
 * like any record the driver did not write (the job then has no cost).
 */
export function warmJobRecord(input: WarmRecordInput): JobRecord {
  const observed = readJobRecord(input.observed);
  const record: Record<string, unknown> = {};
  for (const key of INHERITED_KEYS) if (observed[key] !== undefined) record[key] = observed[key];
  const poolReadyAt = readJobRecord({ readyAt: input.poolReadyAt }).readyAt;
  return {
    ...(record as JobRecord),
    ...(poolReadyAt !== undefined ? { poolReadyAt } : {}),
    claimedAt: new Date(input.claimedAt).toISOString(),
    readyAt: new Date(input.readyAt).toISOString(),
  };
}
