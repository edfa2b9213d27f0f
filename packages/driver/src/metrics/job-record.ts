import type { Architecture, CapacityKind } from '../cost/prices.js';

/** Why a job did not succeed, in a few words that make a low-cardinality metric dimension. */
export type FailureReason =
  | 'launch'
  | 'task_stopped'
  | 'start_timeout'
  | 'ssh'
  | 'cancelled'
  | 'override_refused'
  | 'connection_lost'
  | 'other';

/** How the job ended, as far as the driver can know it (see `outcome.ts`). */
export interface JobOutcomeRecord {
  readonly kind: 'success' | 'script_failure' | 'system_failure';
  /** The stage that decided it: `prepare`, or the run stage's name (`build_script`, ...). */
  readonly stage: string;
  readonly reason?: FailureReason;
  /** The script's exit code, for a script failure. */
  readonly exitCode?: number;
}

/**
 * What prepare and the run stages record in the job's state file for the timeline, the cost and the job's metrics.
 * Times are ISO strings; ECS's own are copied from DescribeTasks. Everything is optional: a prepare that failed
 * early records little.
 */
export interface JobRecord {
  /** The first RunTask call (the driver's clock). */
  readonly runTaskSentAt?: string;
  readonly runTaskReturnedAt?: string;
  /** ECS `createdAt`, `pullStartedAt`, `pullStoppedAt`, `startedAt`. */
  readonly taskCreatedAt?: string;
  readonly pullStartedAt?: string;
  readonly pullStoppedAt?: string;
  readonly taskStartedAt?: string;
  /** When the driver's DescribeTasks poller first saw RUNNING. */
  readonly runningSeenAt?: string;
  /** When sshd accepted the job key: the job could start. */
  readonly readyAt?: string;
  /** A warm start: when the job claimed its idle pool task. The job's cost counts from here (before, the pool's). */
  readonly claimedAt?: string;
  /** A warm start: when the pool task first answered SSH (the keeper's clock): it idled from then to the claim. */
  readonly poolReadyAt?: string;
  /** Task size as ECS placed it: CPU units, MiB, GiB. */
  readonly cpu?: number;
  readonly memoryMiB?: number;
  readonly ephemeralGiB?: number;
  readonly capacity?: CapacityKind;
  readonly architecture?: Architecture;
  readonly outcome?: JobOutcomeRecord;
}

const TIME_KEYS = [
  'runTaskSentAt', 'runTaskReturnedAt', 'taskCreatedAt', 'pullStartedAt', 'pullStoppedAt', 'taskStartedAt', 'runningSeenAt', 'readyAt',
  'claimedAt', 'poolReadyAt',
] as const;
const NUMBER_KEYS = ['cpu', 'memoryMiB', 'ephemeralGiB'] as const;
const OUTCOME_KINDS: readonly string[] = ['success', 'script_failure', 'system_failure'];

/**
 * The record as far as it is well-formed: a state file is the driver's own, but a value that is not what the
 * driver writes (an older or damaged file) is dropped rather than trusted, and never fails the stage.
 */
export function readJobRecord(value: unknown): JobRecord {
  if (typeof value !== 'object' || value === null) return {};
  const raw = value as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const key of TIME_KEYS) {
    const v = raw[key];
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) record[key] = v;
  }
  for (const key of NUMBER_KEYS) {
    const v = raw[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) record[key] = v;
  }
  if (raw.capacity === 'FARGATE' || raw.capacity === 'FARGATE_SPOT') record.capacity = raw.capacity;
  if (raw.architecture === 'X86_64' || raw.architecture === 'ARM64') record.architecture = raw.architecture;
  const outcome = raw.outcome as Partial<Record<keyof JobOutcomeRecord, unknown>> | undefined;
  if (typeof outcome === 'object' && outcome !== null && OUTCOME_KINDS.includes(outcome.kind as string) && typeof outcome.stage === 'string') {
    record.outcome = outcome as JobOutcomeRecord;
  }
  return record as JobRecord;
}

/** Milliseconds since the epoch of an ISO time in the record; `undefined` when absent. */
export function timeOf(iso: string | undefined): number | undefined {
  return iso === undefined ? undefined : Date.parse(iso);
}
