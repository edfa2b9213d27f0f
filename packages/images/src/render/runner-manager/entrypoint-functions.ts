import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';
import { EXIT_MISCONFIGURED } from '../../manager/exit-codes.js';
import { shellQuote } from '../shell.js';
import { PRIVATE_CA_FILE, RELAYED_DRIVER_LOG_FILE, type RunnerManagerLayout } from './layout.js';
import { EXPORT_RUNNER_IDENTITY_FUNCTION, SHORTEN_RUNNER_TOKEN_FUNCTION } from './runner-identity.js';

/** The script's own variables (the image's paths, the run-as user) and the state its functions share. */
export function scriptVariables(spec: ResolvedRunnerManagerSpec, layout: RunnerManagerLayout): string {
  return `# Lower-case names: they must not clash with, or be exported as, the container's own variables.
run_as=${shellQuote(spec.runAs)}
run_as_home=${shellQuote(layout.home)}
config_dir=${shellQuote(spec.configDir)}
private_ca_file=${PRIVATE_CA_FILE}
: "\${RUNNER_CONFIG_PATH:=${layout.runnerConfigPath}}"
: "\${DRIVER_CONFIG_PATH:=${layout.driverConfigPath}}"
: "\${DRIVER_PATH:=${layout.driverCommand}}"
export RUNNER_CONFIG_PATH DRIVER_CONFIG_PATH DRIVER_PATH
# run_exec and cleanup_exec: the driver's native client when the image has one (it falls back to the driver), else
# the driver.
if [[ -z \${RUN_EXEC_PATH:-} && -x ${layout.runClientCommand} ]]; then RUN_EXEC_PATH=${layout.runClientCommand}; fi
if [[ -n \${RUN_EXEC_PATH:-} ]]; then export RUN_EXEC_PATH; fi
if [[ -z \${CLEANUP_EXEC_PATH:-} && -x ${layout.runClientCommand} ]]; then CLEANUP_EXEC_PATH=${layout.runClientCommand}; fi
if [[ -n \${CLEANUP_EXEC_PATH:-} ]]; then export CLEANUP_EXEC_PATH; fi
relayed_driver_log=${RELAYED_DRIVER_LOG_FILE}
relay_driver_log=false
# What the settings watcher needs to see the task definition's environment again: -u NAME for settings the
# parameter added, NAME=VALUE for those it replaced.
watcher_unset=()
watcher_restore=()
applied_settings_version=
settings_helper=`;
}

/** `log` and `die`: every message names the runner-manager, and every refusal says how to fix it (exit 78). */
export function logFunctions(): string {
  return `log() { printf 'runner-manager: %s\\n' "$*" >&2; }

die() {
  log "error: $1"
  log "how to fix: $2"
  exit ${EXIT_MISCONFIGURED}
}`;
}

/** `read_secret_file`: a token from the file that its `_FILE` variable names. */
export function secretFileFunction(): string {
  return `# VAR_FILE names a file holding VAR (Docker secrets, mounted files); giving both is ambiguous.
read_secret_file() {
  local name=$1 file_name="$1_FILE"
  local file=\${!file_name:-}
  [[ -n $file ]] || return 0
  [[ -z \${!name:-} ]] || die "both $name and $file_name are set" "set only one of them"
  [[ -r $file ]] || die "$file_name names $file, which does not exist or cannot be read" "mount the secret there or fix $file_name"
  printf -v "$name" '%s' "$(<"$file")"
  export "\${name?}"
  unset "$file_name"
}`;
}

/** `shorten_runner_token` and `export_runner_identity`: the runner's short token, the driver's identity. */
export function runnerIdentityFunctions(): string {
  return [SHORTEN_RUNNER_TOKEN_FUNCTION, EXPORT_RUNNER_IDENTITY_FUNCTION].join('\n\n');
}

/** `install_private_ca`: a private CA into the system store, and for Node.js. */
export function privateCaFunction(layout: RunnerManagerLayout): string {
  return `install_private_ca() {
  local source
  if [[ -n \${CA_CERTIFICATES_PEM:-} ]]; then
    [[ $CA_CERTIFICATES_PEM == *'-----BEGIN CERTIFICATE-----'* ]] ||
      die "CA_CERTIFICATES_PEM does not hold a PEM certificate" "give the CA certificate's PEM text, from -----BEGIN CERTIFICATE----- on"
    printf '%s\\n' "$CA_CERTIFICATES_PEM" >"$private_ca_file"
    source=CA_CERTIFICATES_PEM
  elif [[ -n \${CA_CERTIFICATES_PATH:-} ]]; then
    [[ -r $CA_CERTIFICATES_PATH ]] || die "CA_CERTIFICATES_PATH names $CA_CERTIFICATES_PATH, which cannot be read" "mount the CA file there or unset CA_CERTIFICATES_PATH"
    cp "$CA_CERTIFICATES_PATH" "$private_ca_file"
    source=$CA_CERTIFICATES_PATH
  elif [[ -r ${layout.defaultCaPath} ]]; then
    cp ${layout.defaultCaPath} "$private_ca_file"
    source=${layout.defaultCaPath}
  else
    return 0
  fi
  chmod 0644 "$private_ca_file"
  update-ca-certificates >/dev/null
  # The driver is a Node.js program: Node.js reads its extra trust from this variable, not the system store.
  export NODE_EXTRA_CA_CERTS=$private_ca_file
  log "installed the private CA from $source"
}`;
}

/** `use_relayed_driver_log`, `as_run_as` and `start_driver_log_relay`: the driver's log on this container's stdout. */
export function driverLogFunctions(): string {
  return `# Only when LOG_FILE is not set at all: LOG_FILE="" is the way to keep the driver on stderr.
use_relayed_driver_log() {
  [[ -z \${LOG_FILE+set} ]] || return 0
  LOG_FILE=$relayed_driver_log
  export LOG_FILE
  relay_driver_log=true
}

# Runs a command as $run_as.
as_run_as() {
  if [[ $run_as == root ]]; then
    "$@"
  else
    setpriv --reuid="$run_as" --regid="$(id -gn "$run_as")" --init-groups "$@"
  fi
}

# The follower is a child of this process, so it outlives the exec below; on stop, tini forwards SIGQUIT to
# gitlab-runner only and exits with it, which ends the follower with the container.
start_driver_log_relay() {
  [[ $relay_driver_log == true ]] || return 0
  local log_dir=\${relayed_driver_log%/*}
  install -d -m 0700 -o "$run_as" -g "$(id -gn "$run_as")" "$log_dir"
  # As $run_as: the folder is theirs, so root neither creates the file in it nor reads what the name points to.
  (umask 077 && as_run_as touch -- "$relayed_driver_log")
  as_run_as tail -F -n 0 -- "$relayed_driver_log" </dev/null &
  log "relaying the driver's log $relayed_driver_log to this container's stdout"
}`;
}

/** `register_with_legacy_token`: a runner token from a registration token (deprecated). */
export function legacyRegistrationFunction(): string {
  return `register_with_legacy_token() {
  log "warning: REGISTRATION_TOKEN uses GitLab's deprecated registration flow (off by default since GitLab 17.0, to be removed in 20.0), and every container start registers another runner"
  log "warning: instead create the runner in GitLab (CI/CD settings > Runners > New runner) and pass its glrt- token as RUNNER_TOKEN"
  [[ -z \${RUNNER_TOKEN:-} ]] || die "both RUNNER_TOKEN and REGISTRATION_TOKEN are set" "keep RUNNER_TOKEN and remove REGISTRATION_TOKEN"
  [[ -n \${GITLAB_URL:-} ]] || die "GITLAB_URL is not set, so there is nothing to register with" "set GITLAB_URL, e.g. https://gitlab.example.com"
  command -v gitlab-runner >/dev/null || die "gitlab-runner is not installed in this image (built with INSTALL_GITLAB_RUNNER=false)" "rebuild with INSTALL_GITLAB_RUNNER=true"
  local scratch
  scratch=$(mktemp -d)
  # gitlab-runner reads the token from REGISTRATION_TOKEN itself: it stays off the command line.
  gitlab-runner register --non-interactive --config "$scratch/config.toml" --url "$GITLAB_URL" \\
    --executor custom --name "\${RUNNER_NAME:-gitlab-fargate}" \${RUNNER_TAGS:+--tag-list "$RUNNER_TAGS"} >&2 ||
    die "gitlab-runner register failed (see above)" "check GITLAB_URL and REGISTRATION_TOKEN, or switch to RUNNER_TOKEN"
  RUNNER_TOKEN=$(sed -n 's/^[[:space:]]*token[[:space:]]*=[[:space:]]*"\\([^"]*\\)".*$/\\1/p' "$scratch/config.toml" | head -n 1)
  rm -rf "$scratch"
  [[ -n $RUNNER_TOKEN ]] || die "gitlab-runner register wrote no token" "switch to RUNNER_TOKEN"
  export RUNNER_TOKEN
}`;
}
