import type { SSH_PUBLIC_KEY_VARIABLE } from '@gitlab-fargate/config';
import type { ResolvedCiCoordinatorSpec } from '../../spec/ci-coordinator.js';
import { generatedNotice, shellQuote } from '../shell.js';
import {
  IDLE_WATCHDOG_FLAG,
  IDLE_WATCHDOG_MAX_SLEEP_SECONDS,
  idleDeadlineStartFunctions,
  idleWatchdogFunctions,
} from './idle-watchdog.js';
import { CLAIM_LOCK_DIR, CLAIM_COMMAND, IDLE_DEADLINE_VARIABLE, RUN_DIR } from './pool-contract.js';
import { JOB_KEY_TYPE } from './ssh-algorithms.js';
import { SESSION_FLAG } from './sshd-config.js';

/** Where the entrypoint saves the container's environment for SSH sessions. */
export const SESSION_ENVIRONMENT_FILE = `${RUN_DIR}/session.env`;

/**
 * The variable that carries the job's public key: the config package's SSH_PUBLIC_KEY_VARIABLE (the job-container
 * contract), checked by the compiler without a runtime dependency on @gitlab-fargate/config (a devDependency here).
 */
export const JOB_KEY_VARIABLE = 'SSH_PUBLIC_KEY' satisfies typeof SSH_PUBLIC_KEY_VARIABLE;

/** Exit status when the container is started wrongly (sysexits.h EX_CONFIG). */
export const EXIT_MISCONFIGURED = 78;

/**
 * Variables sshd sets for each session, or that describe the entrypoint's own process rather than the container:
 * a session keeps its own values of these.
 */
const SESSION_OWN_VARIABLES = ['HOME', 'USER', 'LOGNAME', 'SHELL', 'MAIL', 'PWD', 'OLDPWD', 'SHLVL', 'TERM', '_'];

/**
 * The ci-coordinator's `docker-entrypoint.sh` for a resolved spec: its sections in order, one blank line between
 * them (settings, shell functions, then what runs).
 */
export function ciCoordinatorEntrypoint(spec: ResolvedCiCoordinatorSpec): string {
  return `${[
    header(),
    settings(spec),
    logFunctions(),
    sessionFunction(),
    publicKeyFunction(),
    sessionEnvironmentFunction(),
    hostKeysFunction(),
    idleDeadlineStartFunctions(),
    idleWatchdogFunctions(),
    dispatch(spec),
  ].join('\n\n')}\n`;
}

/** The shebang, the generated-file notice and what the script does, ending in its shell options. */
function header(): string {
  return `#!/usr/bin/env bash
${generatedNotice('ci-coordinator entrypoint: starts sshd for one job, and starts each SSH session.').join('\n')}
#
# Container start (under tini): installs the job's public key from ${JOB_KEY_VARIABLE}, removes that variable, saves
# the container's environment (ECS task-role credential variables included) for SSH sessions, generates host
# keys and execs sshd in the foreground, logging to stderr. SIGTERM reaches sshd through tini and stops it.
# A command given to the container runs instead of sshd (debugging: docker run --rm -it IMAGE bash).
#
# ${SESSION_FLAG} (sshd's ForceCommand, as the SSH user): loads the saved environment, because sshd gives
# sessions a fresh one, then runs the client's command with the user's shell as sshd would have.
#
# Warm pool: with ${IDLE_DEADLINE_VARIABLE} (epoch seconds) the start also runs ${IDLE_WATCHDOG_FLAG}, which stops
# sshd, and so the container, at that time unless a job claimed the task first (${CLAIM_COMMAND}).
set -euo pipefail`;
}

/** The script's own settings, from the spec. */
function settings(spec: ResolvedCiCoordinatorSpec): string {
  return `# Lower-case names: they must not collide with the container's own (upper-case) variables, which sessions load.
ssh_user=${shellQuote(spec.sshUser)}
host_key_types=(${spec.hostKeyTypes.join(' ')})
session_env_file=${SESSION_ENVIRONMENT_FILE}
session_own_variables=' ${SESSION_OWN_VARIABLES.join(' ')} '
public_key_line='^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$'
# sshd accepts this key type only (PubkeyAcceptedAlgorithms): a key of another type could never log in.
job_key_type=${JOB_KEY_TYPE}
# The warm pool's in-task lock, and the longest the idle watchdog sleeps before it looks at the clock again.
claim_lock=${CLAIM_LOCK_DIR}
idle_watchdog_step=${IDLE_WATCHDOG_MAX_SLEEP_SECONDS}`;
}

/** `log` and `die`: every message is prefixed, and a refusal says how to fix it. */
function logFunctions(): string {
  return `log() { printf 'ci-coordinator: %s\\n' "$*" >&2; }

die() {
  log "error: $1"
  log "how to fix: $2"
  exit ${EXIT_MISCONFIGURED}
}`;
}

/** An SSH session (sshd's forced command): the saved environment, then the client's command. */
function sessionFunction(): string {
  return `run_session() {
  if [[ -r $session_env_file ]]; then
    # shellcheck source=/dev/null
    . "$session_env_file"
  fi
  local shell=\${SHELL:-/bin/bash}
  if [[ -n \${SSH_ORIGINAL_COMMAND+set} ]]; then
    local command=$SSH_ORIGINAL_COMMAND
    unset SSH_ORIGINAL_COMMAND
    exec "$shell" -c "$command"
  fi
  # No command: an interactive login shell, as sshd starts one.
  exec -a "-\${shell##*/}" "$shell"
}`;
}

/** Checks the job key (one ed25519 OpenSSH line per key) and installs it for the SSH user. */
function publicKeyFunction(): string {
  return `install_public_key() {
  if [[ -z \${${JOB_KEY_VARIABLE}:-} ]]; then
    die "${JOB_KEY_VARIABLE} is empty or not set, so nobody could log in; refusing to start sshd" \\
      "start the container with the job's public key in ${JOB_KEY_VARIABLE} (the driver sets it on the ci-coordinator container; by hand: docker run -e ${JOB_KEY_VARIABLE}=\\"\\$(cat ~/.ssh/id_ed25519.pub)\\" IMAGE)"
  fi
  local line
  while IFS= read -r line; do
    if [[ -n $line && ! $line =~ $public_key_line ]]; then
      die "${JOB_KEY_VARIABLE} holds a line that is not an OpenSSH public key: '\${line:0:32}...'" \\
        "pass one key per line in OpenSSH format, e.g. 'ssh-ed25519 AAAAC3Nza... comment'"
    fi
    if [[ -n $line && \${line%% *} != "$job_key_type" ]]; then
      die "${JOB_KEY_VARIABLE} holds a \${line%% *} key, and sshd here accepts only $job_key_type keys" \\
        "generate an ed25519 key (ssh-keygen -t ed25519), as the driver does for every job"
    fi
  done <<<"$${JOB_KEY_VARIABLE}"

  local home group
  home=$(getent passwd "$ssh_user" | cut -d: -f6)
  group=$(id -gn "$ssh_user")
  install -d -m 0700 -o "$ssh_user" -g "$group" "$home/.ssh"
  (umask 077 && printf '%s\\n' "$${JOB_KEY_VARIABLE}" >"$home/.ssh/authorized_keys")
  chown "$ssh_user:$group" "$home/.ssh/authorized_keys"
  chmod 0600 "$home/.ssh/authorized_keys"
  unset ${JOB_KEY_VARIABLE}
}`;
}

/** Saves the container's exported variables (minus the session's own) for SSH sessions, readable by the user only. */
function sessionEnvironmentFunction(): string {
  return `save_session_environment() {
  local name
  install -d -m 0755 "\${session_env_file%/*}"
  (
    umask 077
    {
      printf '# The container environment at start, loaded by each SSH session.\\n'
      while IFS= read -r name; do
        [[ $session_own_variables == *" $name "* ]] && continue
        printf 'export %s=%q\\n' "$name" "\${!name}"
      done < <(compgen -e)
    } >"$session_env_file"
  )
  chown "$ssh_user" "$session_env_file"
}`;
}

/** Host keys made at each start, never baked into the image; their fingerprints go to the log. */
function hostKeysFunction(): string {
  return `generate_host_keys() {
  local type key
  for type in "\${host_key_types[@]}"; do
    key=/etc/ssh/ssh_host_\${type}_key
    [[ -f $key ]] || ssh-keygen -q -t "$type" -N '' -f "$key"
    log "host key $(ssh-keygen -l -f "$key.pub")"
  done
}`;
}

/** What runs: a session, the idle watchdog, a given command, or the container start that ends in sshd. */
function dispatch(spec: ResolvedCiCoordinatorSpec): string {
  return `if [[ \${1:-} == ${SESSION_FLAG} ]]; then
  run_session
fi
if [[ \${1:-} == ${IDLE_WATCHDOG_FLAG} ]]; then
  run_idle_watchdog "$2" "$3"
fi
if [[ $# -gt 0 ]]; then
  exec "$@"
fi

read_idle_deadline
install_public_key
save_session_environment
generate_host_keys
install -d -m 0755 /run/sshd
if [[ -n $idle_deadline ]]; then
  start_idle_watchdog
fi
log "starting sshd for user $ssh_user on port ${spec.sshPort}"
exec /usr/sbin/sshd -D -e`;
}
