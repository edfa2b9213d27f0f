/**
 * The variable the driver takes the runner's identity from (its tasks' `startedBy`, which `gc` and the orphan reaper
 * go by). It lives in gitlab-runner's own environment, which gitlab-runner hands to every driver process and no job
 * can change. The driver's `RUNNER_IDENTITY_VARIABLE` (packages/driver/src/job/environment.ts) has the same name: this
 * package cannot depend on the driver, so `runner-identity.test.ts` checks that the two agree.
 */
export const RUNNER_IDENTITY_VARIABLE = 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN';

/**
 * A bash function that prints the short token gitlab-runner derives from a runner token, as `ShortenToken` in
 * https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/helpers/shorten_token.go does: strip `glrt-` (with an
 * optional `t1_`/`t2_`/`t3_` partition prefix), a bare partition prefix or `glrtr-`; then `glcbt-`; then a legacy
 * `GR` + 7 hex digits; keep the first 9 characters. Each of Go's three anchored expressions strips at most once, in
 * that order; bash's leftmost-longest alternation picks the same match as Go's leftmost-first one here, as the
 * optional partition prefix is greedy.
 */
export const SHORTEN_RUNNER_TOKEN_FUNCTION = `# gitlab-runner's ShortenToken (helpers/shorten_token.go): strip the known prefixes, keep 9 characters.
shorten_runner_token() {
  local token=$1
  if [[ $token =~ ^(glrt-(t[123]_)?|t[123]_|glrtr-) ]]; then
    token=\${token:\${#BASH_REMATCH[0]}}
  fi
  if [[ $token == glcbt-* ]]; then
    token=\${token#glcbt-}
  fi
  if [[ $token =~ ^GR[0-9A-Fa-f]{7} ]]; then
    token=\${token:9}
  fi
  printf '%s' "\${token:0:9}"
}`;

/**
 * The bash function that sets {@link RUNNER_IDENTITY_VARIABLE} for gitlab-runner: a value given to the container wins;
 * otherwise it is derived from `RUNNER_TOKEN`, so that the driver's identity is the short token GitLab shows for the
 * runner (and each job's `CI_RUNNER_SHORT_TOKEN`), without the warning the driver gives when it must fall back to the
 * job's variable. The short token is not a secret: GitLab prints it in every job log.
 */
export const EXPORT_RUNNER_IDENTITY_FUNCTION = `export_runner_identity() {
  if [[ -z \${${RUNNER_IDENTITY_VARIABLE}:-} ]]; then
    [[ -n \${RUNNER_TOKEN:-} ]] || return 0
    ${RUNNER_IDENTITY_VARIABLE}=$(shorten_runner_token "$RUNNER_TOKEN")
    log "runner identity (${RUNNER_IDENTITY_VARIABLE}) derived from RUNNER_TOKEN: $${RUNNER_IDENTITY_VARIABLE}"
  else
    log "runner identity (${RUNNER_IDENTITY_VARIABLE}) as given: $${RUNNER_IDENTITY_VARIABLE}"
  fi
  export ${RUNNER_IDENTITY_VARIABLE}
}`;
