/** What kind of credential a `[[runners]] token` value is. */
export type RunnerTokenKind =
  /** `glrt-…`: a runner authentication token created in GitLab (the current workflow). */
  | 'authentication'
  /** `glrtr-…` or an unprefixed string: a runner token obtained with the deprecated registration workflow. */
  | 'legacy-authentication'
  /** `GR1348941…`: a registration token, which only `gitlab-runner register` accepts. */
  | 'registration';

/** Classifies a runner token by its prefix, without looking at (or ever printing) the secret part. */
export function classifyRunnerToken(token: string): RunnerTokenKind {
  if (token.startsWith('glrt-')) return 'authentication';
  if (token.startsWith('GR1348941')) return 'registration';
  return 'legacy-authentication';
}

/** A description of a token that is safe to print: its kind and public prefix, never the secret. */
export function describeToken(token: string): string {
  switch (classifyRunnerToken(token)) {
    case 'authentication':
      return 'a runner authentication token (glrt-…)';
    case 'registration':
      return 'a registration token (GR1348941…)';
    default:
      return token.startsWith('glrtr-') ? 'a legacy runner token (glrtr-…)' : 'a token without the glrt- prefix';
  }
}
