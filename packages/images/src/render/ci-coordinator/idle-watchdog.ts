import { CLAIM_COMMAND, IDLE_DEADLINE_VARIABLE } from './pool-contract.js';
import { ENTRYPOINT_PATH } from './sshd-config.js';

/** The flag that makes the entrypoint run as the idle watchdog (`--idle-watchdog DEADLINE SSHD_PID`). */
export const IDLE_WATCHDOG_FLAG = '--idle-watchdog';

/**
 * The longest single sleep of the watchdog: it wakes at least this often to read the clock again (a stepped clock
 * cannot delay the stop by more) and to stand down once a job has claimed the task.
 */
export const IDLE_WATCHDOG_MAX_SLEEP_SECONDS = 30;

/** What the log says when the watchdog won the lock at the deadline, just before it stops sshd. */
export const IDLE_DEADLINE_PASSED_LOG = 'passed and no job claimed this task: stopping sshd, which ends the container';

/** What the log says when a job took the lock first. */
export const IDLE_WATCHDOG_STANDS_DOWN_LOG = 'idle watchdog: a job claimed this task; standing down';

/** How many decimal digits an epoch second may have: up to the year 2286, and a millisecond value is refused. */
const MAX_DEADLINE_DIGITS = 10;

/**
 * The container start's side of the warm pool: reading and checking the deadline (before anything is written),
 * letting a non-root SSH user take the lock, and starting the watchdog.
 */
export function idleDeadlineStartFunctions(): string {
  return `# Warm pool. The keeper starts an idle pool task with ${IDLE_DEADLINE_VARIABLE} (epoch seconds); at that time the
# watchdog takes the in-task lock and stops sshd, which ends the container, so the task stops even when its manager
# is gone. A job claims the task by taking the same lock first, as its first SSH command:
#   ${CLAIM_COMMAND}
# mkdir is atomic, so exactly one of the two wins; the watchdog then stands down.
utc_time() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T' "$1"; }

read_idle_deadline() {
  idle_deadline=
  [[ -n \${${IDLE_DEADLINE_VARIABLE}+set} ]] || return 0
  if [[ ! $${IDLE_DEADLINE_VARIABLE} =~ ^[1-9][0-9]{0,${MAX_DEADLINE_DIGITS - 1}}$ ]]; then
    local what="not a time in whole seconds since 1970 (1 to ${MAX_DEADLINE_DIGITS} digits, no sign, fraction or leading zero)"
    die "${IDLE_DEADLINE_VARIABLE} is '\${${IDLE_DEADLINE_VARIABLE}:0:32}', $what" \\
      "set it to the epoch second at which this idle pool task should stop (date -d '+10 minutes' +%s prints one), \\
or leave it unset for a task outside the warm pool"
  fi
  idle_deadline=$${IDLE_DEADLINE_VARIABLE}
  # The pool's business, not the job's: sessions do not see it.
  unset ${IDLE_DEADLINE_VARIABLE}
  if ((idle_deadline <= EPOCHSECONDS)); then
    log "idle deadline $(utc_time "$idle_deadline") passed before sshd started, so no job can claim this task: exiting"
    exit 0
  fi
}

# The job claims as the SSH user: a user other than root may create the lock, and the sticky bit keeps it from
# removing a lock that root (the watchdog) made.
allow_claim_by_ssh_user() {
  [[ $ssh_user != root ]] || return 0
  chgrp "$(id -gn "$ssh_user")" "\${claim_lock%/*}"
  chmod 1775 "\${claim_lock%/*}"
}

start_idle_watchdog() {
  allow_claim_by_ssh_user
  # From a subshell that ends at once, so that PID 1 (tini) adopts and reaps the watchdog rather than sshd; $$ is
  # this process, which the exec below turns into sshd.
  (${ENTRYPOINT_PATH} ${IDLE_WATCHDOG_FLAG} "$idle_deadline" "$$" </dev/null &)
  log "idle pool task: stops at $(utc_time "$idle_deadline") unless a job claims it first (mkdir $claim_lock)"
}`;
}

/**
 * The watchdog process: sleeps until the deadline (never a busy loop), then takes the lock and stops sshd, or
 * stands down for good when a job took the lock first.
 */
export function idleWatchdogFunctions(): string {
  return `# ${IDLE_WATCHDOG_FLAG} DEADLINE SSHD_PID: sleeps to the deadline in steps of at most $idle_watchdog_step seconds,
# reading the clock (to the microsecond) after each; then whoever creates $claim_lock first owns the task.
run_idle_watchdog() {
  local deadline=$1 sshd_pid=$2 left
  while [[ ! -d $claim_lock ]]; do
    left=$((deadline * 1000000 - \${EPOCHREALTIME/[^0-9]/}))
    ((left > 0)) || stop_idle_task "$deadline" "$sshd_pid"
    ((left <= idle_watchdog_step * 1000000)) || left=$((idle_watchdog_step * 1000000))
    printf -v left '%d.%06d' $((left / 1000000)) $((left % 1000000))
    sleep "$left"
  done
  stand_down
}

stop_idle_task() {
  if mkdir "$claim_lock" 2>/dev/null; then
    log "idle deadline $(utc_time "$1") ${IDLE_DEADLINE_PASSED_LOG}"
    kill -TERM "$2"
    exit 0
  fi
  if [[ ! -d $claim_lock ]]; then
    log "error: cannot create $claim_lock at the idle deadline; stopping sshd all the same"
    kill -TERM "$2"
    exit 1
  fi
  stand_down
}

stand_down() {
  log "${IDLE_WATCHDOG_STANDS_DOWN_LOG}"
  exit 0
}`;
}
