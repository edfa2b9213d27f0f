import {
  JOB_AGENT_BUSYBOX,
  JOB_AGENT_CONTAINER_USER,
  JOB_AGENT_DEFAULT_SSH_PORT,
  JOB_AGENT_DROPBEAR,
  JOB_AGENT_ENTRY_POINT,
  JOB_AGENT_ENV,
  JOB_AGENT_EXIT_MISCONFIGURED,
  JOB_AGENT_LOGIN_NAME,
  JOB_AGENT_SESSION_ENV,
  JOB_AGENT_SESSION_SHELL,
  JOB_AGENT_STATE_DIR,
} from '../../spec/job-agent-contract.js';
import { generatedNotice } from '../shell.js';

/** Key types dropbear (as built here) accepts in `authorized_keys`. */
export const JOB_AGENT_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/** What to do when the root filesystem refuses a write. */
const READ_ONLY_FIX =
  'give the build container a writable root filesystem (no readonlyRootFilesystem / --read-only): the agent adds its login to /etc/passwd, /etc/group and /etc/shells and the service aliases to /etc/hosts';

/** The job agent's `gf-entry`: prepares the build container for SSH logins and execs dropbear. */
export function jobAgentEntry(): string {
  return [entryHeader(), entryChecks(), entryJobUser(), entrySetup(), entryMain()].join('');
}

/** The shebang, what the script does, its settings and its error helpers. */
function entryHeader(): string {
  const env = JOB_AGENT_ENV;
  return `#!${JOB_AGENT_BUSYBOX} sh
# shellcheck shell=sh
${generatedNotice("job-agent gf-entry: the build container's entry point; starts dropbear for one job.").join('\n')}
#
# Run as: ${JOB_AGENT_ENTRY_POINT.join(' ')}, container user "${JOB_AGENT_CONTAINER_USER}". busybox runs it, so the job
# image needs no shell, and every command here is a busybox applet whatever the image holds.
# Environment:
#   ${env.sshPublicKey}           required: one OpenSSH public key line (the job key)
#   ${env.hosts}     optional: host names mapped to 127.0.0.1 in /etc/hosts (service aliases)
#   ${env.jobUser}  optional: name, uid or uid:gid of the job user; default root
#   ${env.sshPort}  optional: dropbear's port; default ${JOB_AGENT_DEFAULT_SSH_PORT}
# It checks all of them first, then adds the login "${JOB_AGENT_LOGIN_NAME}" (the job user's uid and gid) to
# /etc/passwd, its home with the key, the aliases to /etc/hosts, makes a host key and execs dropbear with -e, so
# that sessions get this container's environment (task-role credentials included). Every failure says what, why
# and how to fix it, and exits ${JOB_AGENT_EXIT_MISCONFIGURED}.
set -eu

login=${JOB_AGENT_LOGIN_NAME}
state=${JOB_AGENT_STATE_DIR}
home=$state/home
host_key=$state/host_ed25519
session_shell=${JOB_AGENT_SESSION_SHELL}
key_types=' ${JOB_AGENT_KEY_TYPES.join(' ')} '
read_only_fix='${READ_ONLY_FIX}'
newline='
'

log() { printf 'gf-entry: %s\\n' "$*" >&2; }

die() {
  log "error: $1"
  log "how to fix: $2"
  exit ${JOB_AGENT_EXIT_MISCONFIGURED}
}

`;
}

/** Checks of the container user and of every variable, before anything is changed. */
function entryChecks(): string {
  const env = JOB_AGENT_ENV;
  return `check_root() {
  uid_now=$(id -u)
  [ "$uid_now" = 0 ] || die "the build container runs as uid $uid_now; gf-entry needs root to add its login to /etc/passwd and to switch to the job user" \\
    "start the build container as user \\"${JOB_AGENT_CONTAINER_USER}\\" (ECS containerDefinitions[].user, docker run --user 0); the job user goes in ${env.jobUser}"
}

check_public_key() {
  key=\${${env.sshPublicKey}:-}
  [ -n "$key" ] || die "${env.sshPublicKey} is empty or not set, so nobody could log in; refusing to start dropbear" \\
    "set ${env.sshPublicKey} to the job's public key, one line such as 'ssh-ed25519 AAAAC3Nza... comment' (the driver sets it in the container overrides)"
  case $key in *"$newline"*)
    die "${env.sshPublicKey} holds more than one line" "pass exactly one OpenSSH public key line" ;;
  esac
  key_type=\${key%% *}
  case $key_types in *" $key_type "*) ;; *)
    die "${env.sshPublicKey} does not start with a key type dropbear accepts: '$(printf '%.24s' "$key")...'" \\
      "pass one OpenSSH public key line without options, starting with one of:$key_types" ;;
  esac
  printf '%s\\n' "$key" | grep -Eq '^[a-z0-9-]+ [A-Za-z0-9+/]+={0,2}( [^[:cntrl:]]*)?$' \\
    || die "${env.sshPublicKey} is not an OpenSSH public key line: '$(printf '%.24s' "$key")...'" \\
      "pass 'TYPE BASE64 [comment]', e.g. the output of ssh-keygen -y -f KEY"
}

check_port() {
  port=\${${env.sshPort}:-${JOB_AGENT_DEFAULT_SSH_PORT}}
  case $port in ''|*[!0-9]*|0*) port_ok=false ;; *) port_ok=true ;; esac
  if [ "$port_ok" = false ] || [ "\${#port}" -gt 5 ] || [ "$port" -gt 65535 ]; then
    die "${env.sshPort} is '$port', not a port number" "give a whole number from 1 to 65535, or leave it unset for ${JOB_AGENT_DEFAULT_SSH_PORT}"
  fi
}

check_hosts() {
  hosts=''
  set -f
  for name in \${${env.hosts}:-}; do
    case $name in
      -*|.*|*[!A-Za-z0-9._-]*)
        die "${env.hosts} holds '$name', which is not a host name" \\
          "list host names separated by spaces, e.g. 'postgres db' (letters, digits, '.', '_' and '-'; not starting with '-' or '.')" ;;
    esac
    hosts="$hosts $name"
  done
  set +f
}

`;
}

/** Resolves the job user as Docker resolves `--user`, and the HOME its sessions get. */
function entryJobUser(): string {
  const env = JOB_AGENT_ENV;
  return `# Sets uid, gid and job_home from ${env.jobUser}, looking a name up in the image's /etc/passwd.
resolve_job_user() {
  user=\${${env.jobUser}:-}
  user_fix="give the job user as a name from the image's /etc/passwd, a uid or uid:gid (numbers), as in image: docker: user:"
  case $user in
    '') uid=0 gid=0 ;;
    *:*)
      uid=\${user%%:*} gid=\${user#*:}
      case "$uid:$gid" in *[!0-9:]*|:*|*:|*:*:*) die "${env.jobUser} is '$user': uid:gid must be two numbers" "$user_fix" ;; esac ;;
    *[!0-9]*)
      case $user in *[!A-Za-z0-9._-]*|-*) die "${env.jobUser} is '$user', not a user name" "$user_fix" ;; esac
      entry=$(awk -F: -v name="$user" '$1 == name { print $3 ":" $4; exit }' /etc/passwd 2>/dev/null || true)
      [ -n "$entry" ] || die "${env.jobUser} is '$user', but the image's /etc/passwd has no such user" "$user_fix"
      uid=\${entry%%:*} gid=\${entry#*:} ;;
    *)
      uid=$user
      # Docker's rule for a bare uid: the primary group of its /etc/passwd entry, else 0.
      gid=$(awk -F: -v uid="$uid" '$3 == uid { print $4; exit }' /etc/passwd 2>/dev/null || true)
      gid=\${gid:-0} ;;
  esac
  # HOME as the job would see it under Docker: the container's own for root, else the user's passwd home, else /.
  if [ "$uid" = 0 ]; then
    job_home=\${HOME:-/root}
  else
    job_home=$(awk -F: -v uid="$uid" '$3 == uid { print $6; exit }' /etc/passwd 2>/dev/null || true)
    job_home=\${job_home:-/}
  fi
}

`;
}

/** The writes: login, group, shell, key, aliases, host key; each fails with a fix. */
function entrySetup(): string {
  return `# Replaces FILE with CONTENT (a final newline is added), creating its folder; dies on a read-only filesystem.
write_file() {
  error=$({ mkdir -p "\${1%/*}" && printf '%s\\n' "$2" > "$1"; } 2>&1) \\
    || die "cannot write $1 ($error), so the job's SSH login cannot be set up" "$read_only_fix"
}

# Appends LINE to FILE; dies like write_file.
append_line() {
  error=$({ mkdir -p "\${1%/*}" && printf '%s\\n' "$2" >> "$1"; } 2>&1) \\
    || die "cannot write $1 ($error), so the job's SSH login cannot be set up" "$read_only_fix"
}

add_login() {
  others=$(grep -v "^$login:" /etc/passwd 2>/dev/null || true)
  write_file /etc/passwd "\${others:+$others$newline}$login:x:$uid:$gid:gitlab-fargate job:$home:$session_shell"
  awk -F: -v gid="$gid" '$3 == gid { found = 1 } END { exit !found }' /etc/group 2>/dev/null \\
    || append_line /etc/group "$login:x:$gid:"
  # dropbear refuses a login whose shell /etc/shells does not list.
  grep -qxF "$session_shell" /etc/shells 2>/dev/null || append_line /etc/shells "$session_shell"
}

install_key() {
  error=$({
    mkdir -p "$home/.ssh" && chmod 0711 "$state" \\
      && printf '%s\\n' "$key" > "$home/.ssh/authorized_keys" \\
      && chown -R "$uid:$gid" "$home" && chmod 0700 "$home" "$home/.ssh" && chmod 0600 "$home/.ssh/authorized_keys"
  } 2>&1) || die "cannot write the login's key below $state ($error)" "$read_only_fix"
}

add_hosts() {
  if [ -n "$hosts" ]; then
    append_line /etc/hosts "127.0.0.1$hosts"
  fi
}

# Images built FROM scratch may have no /tmp; the job's shell and the driver's sessions write there, as any user.
ensure_tmp() {
  if [ ! -d /tmp ]; then
    error=$(mkdir -m 1777 /tmp 2>&1) || die "cannot create /tmp ($error)" "$read_only_fix"
  fi
}

make_host_key() {
  if [ ! -f "$host_key" ]; then
    output=$(${JOB_AGENT_DROPBEAR} dropbearkey -t ed25519 -f "$host_key" 2>&1) \\
      || die "dropbearkey could not make a host key: $output" "$read_only_fix"
  fi
  log "host key $(${JOB_AGENT_DROPBEAR} dropbearkey -y -f "$host_key" | grep '^Fingerprint')"
}

`;
}

/** The steps in order, then dropbear in the foreground with the container's environment. */
function entryMain(): string {
  const env = JOB_AGENT_ENV;
  return `check_root
check_public_key
check_port
check_hosts
resolve_job_user
add_login
install_key
add_hosts
ensure_tmp
make_host_key

# dropbear resets HOME and PATH in sessions even with -e: ${JOB_AGENT_SESSION_SHELL} restores them from these.
export ${JOB_AGENT_SESSION_ENV.home}="$job_home" ${JOB_AGENT_SESSION_ENV.path}="\${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
unset ${env.sshPublicKey} ${env.hosts} ${env.jobUser} ${env.sshPort}
log "starting dropbear on port $port: login $login as uid $uid, gid $gid, home $job_home"
exec ${JOB_AGENT_DROPBEAR} dropbear -F -E -e -r "$host_key" -p "$port"
`;
}
