import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';
import { generatedNotice, shellQuote } from '../shell.js';
import { runnerManagerLayout, type RunnerManagerLayout } from './layout.js';
import { EXIT_MISCONFIGURED } from '../../manager/exit-codes.js';
import { MANAGER_ID_VARIABLE, MANAGER_VERSION_VARIABLE, SETTINGS_PARAMETER_VARIABLE, SETTINGS_POLL_SECONDS_VARIABLE } from '../../manager/variables.js';
import { EXPORT_RUNNER_IDENTITY_FUNCTION, RUNNER_IDENTITY_VARIABLE, SHORTEN_RUNNER_TOKEN_FUNCTION } from './runner-identity.js';

export { EXIT_MISCONFIGURED };

/**
 * The command that shows the rendered configuration, as the entrypoint's comments and the README give it: the config
 * CLI prints both files normalized, the runner token hidden. Printing the files themselves would put the token into
 * the container's logs (CloudWatch).
 */
export function safeConfigInspection(layout: RunnerManagerLayout): string {
  return `gitlab-fargate-config validate --print ${layout.runnerConfigPath} ${layout.driverConfigPath}`;
}

/**
 * The driver's log when the container is given no LOG_FILE: a file the entrypoint relays, line by line, to the
 * container's stdout. CloudWatch extracts the driver's per-job metrics (embedded metric format) only from a log event
 * that is the JSON line alone; on stderr, gitlab-runner wraps each of the driver's lines in its own log line. The
 * folder is the run-as user's alone (0700): the driver runs as that user and the log names hosts and tasks.
 */
export const RELAYED_DRIVER_LOG_DIR = '/var/log/gitlab-fargate';
/** The file in {@link RELAYED_DRIVER_LOG_DIR}; the driver rotates it to `driver.log.1` past its size limit. */
export const RELAYED_DRIVER_LOG_FILE = `${RELAYED_DRIVER_LOG_DIR}/driver.log`;

/** Where a private CA given at start is installed for the system store (and Node.js). */
const PRIVATE_CA_FILE = '/usr/local/share/ca-certificates/gitlab-fargate-private-ca.crt';

/** The runner-manager's `entrypoint` for a resolved spec. */
export function runnerManagerEntrypoint(spec: ResolvedRunnerManagerSpec): string {
  const layout = runnerManagerLayout(spec);
  return `#!/usr/bin/env bash
${generatedNotice('runner-manager entrypoint: render the configuration, then run gitlab-runner.').join('\n')}
#
# 1. Secrets: RUNNER_TOKEN (a glrt- runner authentication token) or, deprecated, REGISTRATION_TOKEN; each may
#    instead be read from the file named by RUNNER_TOKEN_FILE / REGISTRATION_TOKEN_FILE.
# 2. Driver TOML: \`gitlab-fargate-config render driver\` reads CLUSTER, REGION, SUBNETS, SECURITY_GROUP_IDS,
#    TASK_DEFINITION, ... (see the config package's README) and writes DRIVER_CONFIG_PATH.
#    Driver log: without LOG_FILE, the driver logs to ${RELAYED_DRIVER_LOG_FILE}
#    (folder 0700, file 0600, owned by ${spec.runAs}), and a \`tail -F\` running as ${spec.runAs} copies each new line
#    to this container's stdout, so that each becomes a log event of its own: CloudWatch extracts the per-job
#    metrics (embedded metric format) only from an event that is the JSON line alone, and gitlab-runner wraps the
#    driver's stderr in its own log lines. The follower goes by name (the driver rotates the file to driver.log.1)
#    and ends with the container. LOG_FILE="" keeps the driver on stderr (then no metrics reach CloudWatch); any
#    other LOG_FILE is used as it is, not relayed, and must be writable by ${spec.runAs}.
# 3. Private CA: CA_CERTIFICATES_PEM (PEM text), else the file CA_CERTIFICATES_PATH
#    (default ${layout.defaultCaPath} when present), goes into the system store.
# 4. Legacy registration: with REGISTRATION_TOKEN, \`gitlab-runner register\` obtains a runner token (deprecated).
# 5. config.toml: \`gitlab-fargate-config render runner\` reads GITLAB_URL, RUNNER_TOKEN, RUNNER_NAME, ... and
#    writes RUNNER_CONFIG_PATH. Both files end up mode 0600, owned by ${spec.runAs}.
# 6. Runner identity: ${RUNNER_IDENTITY_VARIABLE}, the runner's short token the driver goes by (its tasks'
#    startedBy, which gc and the orphan reaper use), stays in gitlab-runner's environment, where no job can change it.
#    Given to the container, it is kept; else it is derived from RUNNER_TOKEN as gitlab-runner shortens tokens.
# Settings parameter: with ${SETTINGS_PARAMETER_VARIABLE} (an SSM String parameter holding a JSON object of the
#    setting variables of steps 2 and 5, e.g. {"CONCURRENT": "8"}), its values are laid over the environment before step 2
#    (\`gitlab-fargate-manager settings\`), and after step 6 a watcher running as ${spec.runAs} reads it every
#    ${SETTINGS_POLL_SECONDS_VARIABLE} (default 30) seconds: a new value re-renders both files in place (gitlab-runner
#    reloads config.toml by itself); one naming another ${MANAGER_VERSION_VARIABLE} than this container's sends
#    gitlab-runner SIGQUIT (no new jobs; it exits when its running jobs end). While the parameter names another
#    version at start, the start waits. ${MANAGER_ID_VARIABLE}: this manager's ECS task ID, for the driver's task tags.
# 7. The tokens leave the environment and the command runs as ${spec.runAs}: by default
#    \`gitlab-runner run\`; a command given to the container replaces it, and arguments starting with "-" are
#    passed to \`gitlab-runner run\`. To see what was rendered, give this command, which hides the token:
#      ${safeConfigInspection(layout)}
#    Never print the files themselves: they hold the runner token, and a command's output goes to the logs.
set -euo pipefail

# Lower-case names: they must not clash with, or be exported as, the container's own variables.
run_as=${shellQuote(spec.runAs)}
run_as_home=${shellQuote(layout.home)}
config_dir=${shellQuote(spec.configDir)}
private_ca_file=${PRIVATE_CA_FILE}
: "\${RUNNER_CONFIG_PATH:=${layout.runnerConfigPath}}"
: "\${DRIVER_CONFIG_PATH:=${layout.driverConfigPath}}"
: "\${DRIVER_PATH:=${layout.driverCommand}}"
export RUNNER_CONFIG_PATH DRIVER_CONFIG_PATH DRIVER_PATH
relayed_driver_log=${RELAYED_DRIVER_LOG_FILE}
relay_driver_log=false
# What the settings watcher needs to see the task definition's environment again: -u NAME for settings the
# parameter added, NAME=VALUE for those it replaced.
watcher_unset=()
watcher_restore=()
applied_settings_version=
settings_helper=

log() { printf 'runner-manager: %s\\n' "$*" >&2; }

die() {
  log "error: $1"
  log "how to fix: $2"
  exit ${EXIT_MISCONFIGURED}
}

# VAR_FILE names a file holding VAR (Docker secrets, mounted files); giving both is ambiguous.
read_secret_file() {
  local name=$1 file_name="$1_FILE"
  local file=\${!file_name:-}
  [[ -n $file ]] || return 0
  [[ -z \${!name:-} ]] || die "both $name and $file_name are set" "set only one of them"
  [[ -r $file ]] || die "$file_name names $file, which does not exist or cannot be read" "mount the secret there or fix $file_name"
  printf -v "$name" '%s' "$(<"$file")"
  export "\${name?}"
  unset "$file_name"
}

${SHORTEN_RUNNER_TOKEN_FUNCTION}

${EXPORT_RUNNER_IDENTITY_FUNCTION}

install_private_ca() {
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
}

# Only when LOG_FILE is not set at all: LOG_FILE="" is the way to keep the driver on stderr.
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
}

# A stop while the start waits for its manager version: tini signals this shell alone, and bash ignores SIGQUIT (the
# image's stop signal) unless trapped. Nothing has started yet, so end the helper and exit 0, as a drain would.
stop_while_starting() {
  kill "$settings_helper" 2>/dev/null || true
  log "stop signal while waiting to start: exiting, gitlab-runner was never started"
  exit 0
}

# Lays the settings parameter's values over this environment. The helper checks every name (only setting
# variables) and ends each NAME=VALUE with a NUL, so values may hold any other byte. It runs in the background so
# that a stop signal ends its wait (bash runs a trap only once a foreground command ends, but interrupts \`wait\`).
apply_settings_parameter() {
  [[ -n \${${SETTINGS_PARAMETER_VARIABLE}:-} ]] || return 0
  local overlay entry name status=0
  overlay=$(mktemp)
  ${layout.managerCommand} settings --out "$overlay" >"$overlay.version" &
  settings_helper=$!
  trap stop_while_starting QUIT
  wait "$settings_helper" || status=$?
  trap - QUIT
  applied_settings_version=$(<"$overlay.version")
  rm -f "$overlay.version"
  if ((status != 0)); then
    rm -f "$overlay"
    exit "$status"
  fi
  while IFS= read -r -d '' entry; do
    name=\${entry%%=*}
    if [[ -n \${!name+set} ]]; then
      watcher_restore+=("$name=\${!name}")
    else
      watcher_unset+=(-u "$name")
    fi
    export "\${entry?}"
  done <"$overlay"
  rm -f "$overlay"
}

# The driver tags each job task with this manager's ID, by which a drain finds the jobs still running here.
export_manager_id() {
  local id
  id=$(${layout.managerCommand} manager-id) || exit $?
  export ${MANAGER_ID_VARIABLE}="$id"
}

# As $run_as, with the task definition's environment (and the token, to render config.toml); a child of this
# process, so it outlives the exec below as the command's child and ends with the container.
start_settings_watcher() {
  [[ -n \${${SETTINGS_PARAMETER_VARIABLE}:-} ]] || return 0
  as_run_as env -u REGISTRATION_TOKEN "\${watcher_unset[@]}" "\${watcher_restore[@]}" \\
    ${layout.managerCommand} watch --runner-pid $$ --config-cli ${layout.configCliCommand} \\
    --applied-version "$applied_settings_version" </dev/null &
}

register_with_legacy_token() {
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
}

if [[ $# -eq 0 || \${1:-} == -* ]]; then
  set -- gitlab-runner run --config "$RUNNER_CONFIG_PATH" --working-directory "$run_as_home" "$@"
fi

if [[ $1 == gitlab-runner ]]; then
  command -v gitlab-runner >/dev/null ||
    die "gitlab-runner is not installed in this image (built with INSTALL_GITLAB_RUNNER=false)" "rebuild with INSTALL_GITLAB_RUNNER=true"
  [[ -x $DRIVER_PATH ]] ||
    die "the driver $DRIVER_PATH is missing (image built with an empty DRIVER_BUNDLE)" "rebuild with the driver bundle in dist/ and DRIVER_BUNDLE naming it"
fi

read_secret_file RUNNER_TOKEN
read_secret_file REGISTRATION_TOKEN
apply_settings_parameter
export_manager_id
use_relayed_driver_log
gitlab-fargate-config render driver --out "$DRIVER_CONFIG_PATH"
install_private_ca
if [[ -n \${REGISTRATION_TOKEN:-} ]]; then
  register_with_legacy_token
fi
gitlab-fargate-config render runner --out "$RUNNER_CONFIG_PATH"
# Not recursive: a CA mounted read-only under $config_dir/certs must stay as it is. gitlab-runner writes beside
# config.toml (.runner_system_id, token refreshes), so the folder is handed over too.
chown "$run_as:$(id -gn "$run_as")" "$config_dir" "$DRIVER_CONFIG_PATH" "$RUNNER_CONFIG_PATH"
export_runner_identity
start_settings_watcher
unset RUNNER_TOKEN REGISTRATION_TOKEN
log "rendered $DRIVER_CONFIG_PATH and $RUNNER_CONFIG_PATH"
start_driver_log_relay

export HOME=$run_as_home USER=$run_as LOGNAME=$run_as
if [[ $run_as == root ]]; then
  exec "$@"
fi
exec setpriv --reuid="$run_as" --regid="$(id -gn "$run_as")" --init-groups "$@"
`;
}
