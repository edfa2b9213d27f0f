import type { RunnerEntry } from '@gitlab-fargate/config';

/** What the harness needs from one `[[runners]]` entry of gitlab-runner's config.toml. */
export type RunnerSettings = Pick<RunnerEntry, 'name' | 'url' | 'token' | 'buildsDir' | 'cacheDir' | 'prepareTimeout' | 'environment' | 'custom'>;

/**
 * `CI_RUNNER_SHORT_TOKEN` as gitlab-runner derives it (helpers/shorten_token.go,
 * https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/helpers/shorten_token.go): known prefixes removed
 * (`glrt-`, `glrt-t1_`, `t1_`, `glrtr-`, `glcbt-`, `GR` and 7 hex digits), then the first 9 characters.
 */
export function shortToken(token: string): string {
  const withoutPrefixes = [/^glrt-(t[123]_)?|^t[123]_|^glrtr-/, /^glcbt-/, /^GR[0-9A-Fa-f]{7}/]
    .reduce((text, prefix) => text.replace(prefix, ''), token);
  return withoutPrefixes.slice(0, 9);
}
