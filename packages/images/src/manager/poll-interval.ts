import { MisconfiguredError } from './exit-codes.js';
import { SETTINGS_POLL_SECONDS_VARIABLE } from './variables.js';

/** Seconds between two reads of the settings parameter when the task definition gives none. */
export const DEFAULT_POLL_SECONDS = 30;
/** Bounds of a given poll interval: SSM's GetParameter quota is shared by the account, a day is long enough. */
export const MIN_POLL_SECONDS = 1;
export const MAX_POLL_SECONDS = 86_400;
/** Longest wait between two reads after failures, however long the poll interval (unless that is longer). */
export const MAX_BACKOFF_SECONDS = 300;

/**
 * The poll interval in seconds from `GITLAB_FARGATE_SETTINGS_POLL_SECONDS`.
 * @throws MisconfiguredError saying what is wrong when the value is not a whole number of seconds within the bounds
 */
export function pollSeconds(env: Readonly<Record<string, string | undefined>>): number {
  const text = env[SETTINGS_POLL_SECONDS_VARIABLE];
  if (text === undefined || text === '') return DEFAULT_POLL_SECONDS;
  const seconds = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < MIN_POLL_SECONDS || seconds > MAX_POLL_SECONDS) {
    throw new MisconfiguredError(
      `${SETTINGS_POLL_SECONDS_VARIABLE} is ${JSON.stringify(text)}: give a whole number of seconds from ${MIN_POLL_SECONDS} to ` +
        `${MAX_POLL_SECONDS}, or leave it unset for ${DEFAULT_POLL_SECONDS}`,
    );
  }
  return seconds;
}

/**
 * How long to wait before the next read after `failures` failed reads in a row: the poll interval, doubled for each
 * further failure, at most {@link MAX_BACKOFF_SECONDS} (or the poll interval, when that is longer).
 */
export function nextDelaySeconds(poll: number, failures: number): number {
  if (failures <= 1) return poll;
  const ceiling = Math.max(poll, MAX_BACKOFF_SECONDS);
  return Math.min(ceiling, poll * 2 ** Math.min(failures - 1, 20));
}
