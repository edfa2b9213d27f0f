import { BuildFailure } from '../errors.js';
import type { FailureReason, JobOutcomeRecord } from './job-record.js';

/** How the job ended, for its metrics: what a stage recorded, or `unknown` when none could (a killed stage). */
export interface JobOutcome {
  readonly kind: JobOutcomeRecord['kind'] | 'unknown';
  /** `none` for a success; a low-cardinality word otherwise (a metric dimension). */
  readonly reason: FailureReason | 'none' | 'script' | 'unknown';
  readonly stage?: string;
  readonly exitCode?: number;
}

/** Run stages whose failures gitlab-runner ignores: they never decide the job's result. */
const IGNORED_STAGES: readonly string[] = ['after_script', 'cleanup_file_variables'];

/** The stages that run the job's own script: their success is the job's (until a later stage fails). */
const SCRIPT_STAGE = /^(build_script|step_script|step_.+)$/;

/** Which failure it was, from the error's class (by name: the run stage must not load the AWS modules). */
export function failureReason(error: unknown): FailureReason {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : '';
  switch (name) {
    case 'Cancelled':
      return 'cancelled';
    case 'LaunchFailed':
      return 'launch';
    case 'TaskStopped':
      return 'task_stopped';
    case 'OverrideRefused':
      return 'override_refused';
    case 'SshConnectError':
    case 'HostKeyMismatch':
      return 'ssh';
    default:
      break;
  }
  if (/was not RUNNING after/.test(message)) return 'start_timeout';
  if (/SSH connection .* ended before the script finished/.test(message)) return 'connection_lost';
  if (/\bSSH\b|sshd/.test(message)) return 'ssh';
  return 'other';
}

/** What a stage's end says about the job; `undefined` when it says nothing (an ignored stage, a setup stage's success). */
export function stageOutcome(stage: string, error: unknown): JobOutcomeRecord | undefined {
  if (IGNORED_STAGES.includes(stage)) return undefined;
  if (error === undefined) return SCRIPT_STAGE.test(stage) ? { kind: 'success', stage } : undefined;
  if (error instanceof BuildFailure) return { kind: 'script_failure', stage, exitCode: error.exitCode };
  return { kind: 'system_failure', stage, reason: failureReason(error) };
}

/** The outcome after `next`: the first failure stays; a failure replaces a success; a success replaces nothing. */
export function mergeOutcome(previous: JobOutcomeRecord | undefined, next: JobOutcomeRecord | undefined): JobOutcomeRecord | undefined {
  if (next === undefined) return previous;
  if (previous === undefined || previous.kind === 'success') return next;
  return previous;
}

/**
 * The job's outcome as cleanup can know it: the run stages record the script's result and any failure in the state
 * file, prepare records its own failure. Nothing recorded means prepare never finished (a system failure at the
 * start) or no run stage could say (killed, or the runner went away): `unknown`.
 */
export function finalOutcome(recorded: JobOutcomeRecord | undefined, prepareFinished: boolean): JobOutcome {
  if (recorded === undefined) {
    return prepareFinished ? { kind: 'unknown', reason: 'unknown' } : { kind: 'system_failure', reason: 'other', stage: 'prepare' };
  }
  const reason = recorded.kind === 'success' ? 'none' : recorded.kind === 'script_failure' ? 'script' : (recorded.reason ?? 'other');
  return { ...recorded, reason };
}
