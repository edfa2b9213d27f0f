/**
 * Prefixes of GitLab credentials a runner deployment may be handed by mistake: runner authentication tokens
 * (`glrt-`), legacy registration tokens (`GR1348941`), personal/project/group access tokens (`glpat-`).
 */
const GITLAB_TOKEN_PATTERN = /(^|[^A-Za-z0-9])(glrt-|glpat-|GR1348941)[A-Za-z0-9_-]{8,}/;

/** True when `value` contains something shaped like a GitLab token (a value, not a reference to one). */
export function looksLikeGitLabToken(value: string): boolean {
  return GITLAB_TOKEN_PATTERN.test(value);
}
