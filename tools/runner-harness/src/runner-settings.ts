import type { RunnerEntry } from '@gitlab-fargate/config';

/** What the harness needs from one `[[runners]]` entry of gitlab-runner's config.toml. */
export type RunnerSettings = Pick<RunnerEntry, 'name' | 'url' | 'token' | 'buildsDir' | 'cacheDir' | 'environment' | 'custom'>;

/**
 * The runner's short token as GitLab derives `CI_RUNNER_SHORT_TOKEN`: the first characters of the token
 * after its `glrt-` prefix (authentication tokens) or of the token itself (legacy ones).
 */
export function shortToken(token: string): string {
  const withoutPrefix = token.startsWith('glrt-') ? token.slice('glrt-'.length).replace(/^t\d_/, '') : token;
  return withoutPrefix.slice(0, 8);
}
