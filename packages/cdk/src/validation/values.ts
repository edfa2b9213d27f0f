import { Token } from 'aws-cdk-lib';
import { looksLikeGitLabToken } from './secret-values';

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

/**
 * The length of gitlab-runner's short token: `ShortenToken` (helpers/shorten_token.go, mirrored by the runner-manager
 * image's `shorten_runner_token`) strips the token's prefixes and keeps 9 characters.
 */
const SHORT_TOKEN_LENGTH = 9;

/**
 * Token prefixes: the ones `ShortenToken` strips, so no short token starts with one (runner tokens `glrt-`, with or
 * without a `t1_`..`t3_` partition, `glrtr-`; CI job tokens `glcbt-`; legacy `GR` + 7 hex digits, as in the
 * registration tokens' `GR1348941`), and access tokens (`glpat-`), which never belong here. Older gitlab-runner
 * releases kept 17 characters of a `GR` token; the runner-manager image's gitlab-runner keeps 9.
 */
const TOKEN_PREFIX = /^(glrt-|glrtr-|glcbt-|glpat-|t[123]_|GR[0-9A-Fa-f]{7})/;

const WHERE_SHORT_TOKEN_IS =
  'Set it to the 9 characters GitLab shows after the runner\'s name on its page in Settings > CI/CD > Runners and in ' +
  'each job log\'s "Running with gitlab-runner ... on NAME SHORT" line (the token without its glrt- and t3_ prefixes, ' +
  'cut to 9 characters).';

/**
 * Why the short token is not one, or undefined. It lands in plain text in task definitions and logs, so anything
 * longer than gitlab-runner's short token, or shaped like a token, is refused, and never echoed.
 */
export function runnerShortTokenProblem(value: string): string | undefined {
  const prefix = TOKEN_PREFIX.exec(value)?.[1];
  if (prefix !== undefined || looksLikeGitLabToken(value)) {
    return (
      `orphanReaper.runnerShortToken looks like a GitLab token${prefix !== undefined ? ` (it starts with ${prefix})` : ''}, ` +
      'which would be written in plain text into the task definitions and logs: never pass a token there. ' +
      WHERE_SHORT_TOKEN_IS
    );
  }
  if (!new RegExp(`^[A-Za-z0-9_-]{1,${SHORT_TOKEN_LENGTH}}$`).test(value)) {
    // Only a value no longer than a short token is echoed: a longer one may be a secret.
    const shown = value.length <= SHORT_TOKEN_LENGTH ? `"${value}"` : `(${value.length} characters)`;
    return (
      `orphanReaper.runnerShortToken ${shown} is not a runner short token: gitlab-runner's is 1 to ` +
      `${SHORT_TOKEN_LENGTH} letters, digits, _ or -. ${WHERE_SHORT_TOKEN_IS}`
    );
  }
  return undefined;
}
