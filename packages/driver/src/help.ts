import type { HelpTopic } from './args.js';

const GLOBAL = `Global options (before or after the command words):
  --config PATH            driver TOML (default: config.toml in the working directory; pass an absolute path)
  --debug                  log level debug
  --log-level LEVEL        debug, info, warning, error, fatal, panic (default: the config's LogLevel, else info)
  --log-format FORMAT      text or json (default: the config's LogFormat, else text)
  --log-file FILE          append logs to FILE instead of stderr (default: the config's LogFile)
  --task-def X             task definition to run, replacing [Fargate] TaskDefinition
  --platform-version Y     Fargate platform version, replacing [Fargate] PlatformVersion
  -h, --help               this help; after a command, that command's help
  -v, --version            print the driver's name and version`;

const EXIT = `Exit codes (custom-executor stages): 0 success; $BUILD_FAILURE_EXIT_CODE (default 1) when the job's script
failed, with the script's code in $BUILD_EXIT_CODE_FILE; $SYSTEM_FAILURE_EXIT_CODE (default 2) for anything else
(AWS, SSH, configuration, cancellation).`;

const REPORT = `Usage: gitlab-fargate-driver report [--since ISO] [--until ISO] [--json] [FILE|-]

Reads the driver's log (FILE, or standard input when FILE is - or absent) and prints, by project and environment,
the jobs, failures, estimated cost and start latency (p50/p95) of the jobs in the period. It reads the one "job
metrics" JSON line cleanup writes per job (on the driver's log, whatever LogFormat); other lines are skipped.
  --since ISO    jobs at or after this time (2026-12-01, 2026-12-01T08:00:00Z; no zone means UTC)
  --until ISO    jobs before this time
  --json         one JSON object instead of the table
Costs are the driver's estimates from its price table or [Pricing] (see the README). Needs no config and no AWS.
Exit code 0, or 1 when the input cannot be read or holds no job metrics.`;

const TEXTS: Record<HelpTopic, string> = {
  main: `gitlab-fargate-driver: a GitLab Runner custom-executor driver that runs each CI job in its own ECS Fargate task.

Usage:
  gitlab-fargate-driver [options] custom config|prepare|run SCRIPT STAGE|cleanup   (aliases: c co p r cl)
  gitlab-fargate-driver [options] validate [PATH]
  gitlab-fargate-driver [options] gc [--dry-run] [--without-state] [--min-age SECONDS]
  gitlab-fargate-driver managers reconcile        (the manager controller; see managers --help)
  gitlab-fargate-driver pool keep|status          (the warm pool of idle tasks; see pool --help)
  gitlab-fargate-driver report [--since ISO] [--until ISO] [--json] [FILE|-]
  gitlab-fargate-driver --version | --help

${GLOBAL}

${EXIT}`,
  custom: `Usage: gitlab-fargate-driver [options] custom <stage>

Stages, called by gitlab-runner's [runners.custom] *_exec/*_args:
  config  (co)             print the runner's config JSON on stdout (no AWS calls)
  prepare (p)              start the job's Fargate task and wait until it accepts SSH
  run     (r) SCRIPT STAGE stream SCRIPT to bash in the task; any STAGE name is accepted
  cleanup (cl)             stop the task and delete the job's state and key

${GLOBAL}

${EXIT}`,
  config: `Usage: gitlab-fargate-driver [options] custom config

Prints one JSON object on stdout for gitlab-runner: driver {name, version}, hostname, builds_dir_is_shared and,
when configured, shell. No builds_dir or cache_dir: gitlab-runner uses config.toml's. Warnings about the driver
TOML (an unknown key, say) go to stderr, which the job log shows. Makes no AWS calls.

${GLOBAL}`,
  prepare: `Usage: gitlab-fargate-driver [options] custom prepare

Generates the job's ed25519 key, runs the task (SSH_PUBLIC_KEY into the SSH container), records the task in the
job's state file before waiting, waits for RUNNING (reporting each status change), resolves the address, waits
until sshd answers and pins its host key. Per-job CI variables FARGATE_TASK_DEFINITION, FARGATE_PLATFORM_VERSION,
FARGATE_CPU, FARGATE_MEMORY, FARGATE_EPHEMERAL_STORAGE and FARGATE_SPOT apply only as far as [Overrides] allows.
With a [[Pool]], it first takes an idle warm-pool task started with the job's RunTask (no AWS call on that path);
the job log says "Warm start" or "Cold start" and why.

${GLOBAL}

${EXIT}`,
  run: `Usage: gitlab-fargate-driver [options] custom run SCRIPT STAGE

Streams SCRIPT over SSH to bash in the job's task (stdin, so any size works), passing its stdout and stderr
through. SIGTERM/SIGINT are forwarded to the remote script. STAGE is only used in logs, except that the last
stage, cleanup_file_variables, ends its output with the task's timeline and the job's estimated cost.

${GLOBAL}

${EXIT}`,
  cleanup: `Usage: gitlab-fargate-driver [options] custom cleanup

Stops the job's task (with a reason, retried on throttling; a task already gone counts as stopped) and deletes the
job's state file and key, after writing the job's metrics (one CloudWatch embedded metric format JSON line) to the
driver's log; a warm start's claimed pool entry goes too. Safe to run twice, after a failed prepare, or with no state.

${GLOBAL}

${EXIT}`,
  validate: `Usage: gitlab-fargate-driver [options] validate [PATH]

Checks a driver TOML (PATH, else --config) without calling AWS and prints every problem with its line and
column. Exit code 0 when valid, 1 when not.

${GLOBAL}`,
  gc: `Usage: gitlab-fargate-driver [options] gc [--dry-run] [--without-state] [--min-age SECONDS]

Stops tasks that this runner started (ECS startedBy gitlab-fargate/<short token>, the token taken from
GITLAB_FARGATE_RUNNER_SHORT_TOKEN in gitlab-runner's environment, else CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN) and that
no live job owns.
  With [TaskMetadata] Directory visible: a task no live state file names is stopped once older than --min-age;
  a stale state (its job's deadline passed) has its task stopped and is removed, with its key; temporary files
  older than 10 minutes and multiplexer sockets without a state are removed.
  With [JobImages] Enabled: job-image task definition families unused for [JobImages] UnusedFamilyTTL are
  deregistered, and deleted once deregistered that long.
  With --without-state, or without it (a reaper in a task of its own): a task tagged gitlab-fargate:deadline
  is stopped only once that deadline (job start + job timeout + 1 h) has passed; an untagged task once older
  than --min-age.
  --dry-run            list what would be stopped and removed, touch nothing
  --without-state      ignore [TaskMetadata] Directory (the reaper: the folder in its own task is not the
                       manager's) and go by deadline tags and --min-age, which it requires
  --min-age SECONDS    leave younger tasks alone (default 600 when the state directory is visible; required
                       without it, where it only applies to tasks with no deadline tag)

Exit code 0 when done, 1 on error.

${GLOBAL}`,
  report: REPORT,
};

/** The help text of one command. */
export function helpText(topic: HelpTopic): string {
  return `${TEXTS[topic]}\n`;
}
