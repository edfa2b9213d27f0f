/**
 * When a job can no longer be running: prepare's start + the job's timeout + {@link STATE_GRACE_SECONDS}. The state
 * file records it (`expiresAt`) for a runner-side `gc`, and the task carries it as a tag (`gitlab-fargate:deadline`)
 * for a reaper that cannot see the state files.
 */

import { SystemFailure } from '../errors.js';

/** Allowance beyond the job's timeout for the runner's own kill timeouts and cleanup before a job counts as gone. */
export const STATE_GRACE_SECONDS = 3600;

/**
 * The longest job timeout GitLab accepts: `Project::MAX_BUILD_TIMEOUT = 1.month` (Rails: 30.436875 days), which bounds
 * project timeouts ("needs to be between 10 minutes and 1 month") and the `timeout:` keyword
 * (https://gitlab.com/gitlab-org/gitlab/-/blob/master/app/models/project.rb). No real job runs longer, so a longer
 * timeout would only let a task outlive the reaper's judgement.
 */
export const MAX_JOB_TIMEOUT_SECONDS = 2_629_746;

/** `2026-12-03T05:00:00Z`: ISO 8601, UTC, whole seconds (only characters ECS allows in tag values). */
const DEADLINE_TAG_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * The job's deadline, rounded up to a whole second so the tag (which has no fractions) never ends before the state;
 * `undefined` when the job's timeout is unknown. A timeout beyond {@link MAX_JOB_TIMEOUT_SECONDS} counts as that.
 *
 * @throws SystemFailure when the deadline is no date (a clock or timeout a Date cannot hold), before any task starts
 */
export function jobDeadline(startedMs: number, jobTimeoutSeconds: number | undefined): Date | undefined {
  if (jobTimeoutSeconds === undefined) return undefined;
  const seconds = Math.min(jobTimeoutSeconds, MAX_JOB_TIMEOUT_SECONDS);
  const deadline = new Date(Math.ceil(startedMs / 1000) * 1000 + (seconds + STATE_GRACE_SECONDS) * 1000);
  if (Number.isNaN(deadline.getTime())) {
    throw new SystemFailure(
      `the job's deadline (start ${startedMs} ms since 1970 + timeout ${jobTimeoutSeconds} s + ${STATE_GRACE_SECONDS} s) is not a ` +
        "date JavaScript can hold: check the machine's clock and the job's timeout (runner_info.timeout in JOB_RESPONSE_FILE)",
    );
  }
  return deadline;
}

/** The deadline as the task's tag value, e.g. `2026-12-03T05:00:00Z`. */
export function deadlineTagValue(deadline: Date): string {
  return `${deadline.toISOString().slice(0, 19)}Z`;
}

/** The deadline (ms since the epoch) a tag value names; `undefined` unless it is exactly what {@link deadlineTagValue} writes. */
export function parseDeadlineTag(value: string | undefined): number | undefined {
  if (value === undefined || !DEADLINE_TAG_PATTERN.test(value)) return undefined;
  const ms = Date.parse(value);
  // Date.parse accepts some impossible dates (e.g. 2026-02-30); only a value that round-trips is one we wrote.
  return Number.isNaN(ms) || deadlineTagValue(new Date(ms)) !== value ? undefined : ms;
}
