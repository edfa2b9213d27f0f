import { Token } from 'aws-cdk-lib';

/** Why `port` is not a TCP port, or undefined. */
export function portProblem(what: string, port: number): string | undefined {
  if (Token.isUnresolved(port)) return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `${what} must be an integer from 1 to 65535 (got ${port}).`;
  }
  return undefined;
}

/** Why `value` is not a positive integer no larger than `max`, or undefined. */
export function countProblem(what: string, value: number, max: number): string | undefined {
  if (Token.isUnresolved(value)) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    return `${what} must be an integer from 1 to ${max} (got ${value}).`;
  }
  return undefined;
}

/**
 * Why a tag cannot travel in `TASK_TAGS` (comma-separated `key=value` pairs) or be an AWS tag, or undefined.
 * AWS allows `=` and more in tags; the list encoding cannot carry `,` or `=`.
 */
export function taskTagProblem(key: string, value: string): string | undefined {
  if (Token.isUnresolved(key) || Token.isUnresolved(value)) {
    return `task tag "${key}": keys and values must be known at synth time.`;
  }
  if (!/^[\p{L}\p{Z}\p{N}_.:/+\-@]{1,128}$/u.test(key) || key.toLowerCase().startsWith('aws:')) {
    return `task tag key "${key}" must be 1-128 letters, digits, spaces or _ . : / + - @, and not start with aws:.`;
  }
  if (!/^[\p{L}\p{Z}\p{N}_.:/+\-@]{0,256}$/u.test(value)) {
    return `task tag "${key}" value "${value}" must be up to 256 letters, digits, spaces or _ . : / + - @.`;
  }
  return undefined;
}

/** The tag-key prefix the constructs and the driver keep for themselves (on job tasks: job id, runner, deadline). */
export const RESERVED_TAG_PREFIX = 'gitlab-fargate:';

/**
 * Why a user-given tag would clash with the product's own, or undefined. The driver tags every job task with
 * `gitlab-fargate:deadline`, which the orphan reaper trusts: a user tag of that name would reach every task whose job
 * has no known timeout and make the reaper stop it too early, or never.
 */
export function reservedTagProblem(key: string): string | undefined {
  if (!key.toLowerCase().startsWith(RESERVED_TAG_PREFIX)) return undefined;
  return (
    `tags key "${key}" is reserved: keys starting with ${RESERVED_TAG_PREFIX} are set by the constructs and the ` +
    'driver (gitlab-fargate:deadline tells the orphan reaper when a job task may be stopped). Use another prefix.'
  );
}

/** Why the short token is not one, or undefined. */
export function runnerShortTokenProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,20}$/.test(value)) {
    // Cut long values short: a full runner token must not be echoed into synth output.
    return (
      `orphanReaper.runnerShortToken "${value.length > 20 ? `${value.slice(0, 8)}...` : value}" is not a runner ` +
      'short token (at most 20 letters, digits, _ or -, as shown on the runner page). Never pass the full runner token.'
    );
  }
  return undefined;
}
