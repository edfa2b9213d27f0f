import { readFileSync } from 'node:fs';
import { SystemFailure, messageOf } from '../errors.js';
import { MAX_JOB_TIMEOUT_SECONDS } from './deadline.js';

/**
 * What gitlab-runner's custom executor hands every driver process through its environment
 * (https://docs.gitlab.com/runner/executors/custom/#stages and gitlab-runner's executors/custom/custom.go).
 */
export interface JobEnvironment {
  /** Exit code meaning "the job's script failed". @default 1 */
  readonly buildFailureExitCode: number;
  /** Exit code meaning "the infrastructure failed" (retried by the runner in prepare). @default 2 */
  readonly systemFailureExitCode: number;
  /** Where the script's own exit code goes on a build failure; absent outside a runner. */
  readonly buildExitCodeFile?: string;
  /** The job payload; absent outside a runner. */
  readonly jobResponseFile?: string;
  /** The per-job temp dir the runner creates for each prepare attempt (also the driver's cwd). */
  readonly tmpDir?: string;
  /**
   * The runner's identity: names state files and the ECS `startedBy` that gc and the reaper go by. From
   * {@link RUNNER_IDENTITY_VARIABLE} in gitlab-runner's own environment, which no job can set; else (with a warning
   * in {@link warnings}) from the job's `CI_RUNNER_SHORT_TOKEN`, which job variables can override; else `unknown`.
   */
  readonly runnerShortToken: string;
  /**
   * The job id from `JOB_RESPONSE_FILE` (written by the runner, so trusted; when set, it must hold one), else
   * `CI_JOB_ID` (runners that do not write the payload), else `0` (upstream's behaviour: config/validate can run
   * outside a job). `CUSTOM_ENV_*` values can be set by the job author, and the job id names the state file: a forged
   * one must not lead to another job's task.
   */
  readonly jobId: string;
  /** `CI_PIPELINE_ID`, or empty. */
  readonly pipelineId: string;
  /** `CI_PROJECT_URL`, or empty. */
  readonly projectUrl: string;
  /**
   * The project's path (`group/project`), which tags the task and groups cost: with a `JOB_RESPONSE_FILE`, the path
   * of its `git_info.repo_url` (written by the runner from GitLab's answer, so a job cannot bill another project;
   * empty when the payload has none); without one, `CI_PROJECT_PATH`; else empty.
   */
  readonly projectPath: string;
  /** `CI_JOB_TOKEN`: only ever registered as a secret to mask, never logged or stored. */
  readonly jobToken?: string;
  /** Every job variable, without the `CUSTOM_ENV_` prefix. */
  readonly variables: ReadonlyMap<string, string>;
  /**
   * The job's timeout in seconds: with a `JOB_RESPONSE_FILE`, its `runner_info.timeout` only (GitLab's, bounded by
   * the runner's maximum job timeout); without one, `CI_JOB_TIMEOUT` (which job variables can set). At most
   * {@link MAX_JOB_TIMEOUT_SECONDS} (a longer one is cut to it, with a warning); undefined when the source gives no
   * positive whole number.
   */
  readonly jobTimeoutSeconds?: number;
  /**
   * The ECS task ID of the runner manager this driver runs in, from {@link MANAGER_ID_VARIABLE} in gitlab-runner's
   * own environment (which no job can change); undefined when unset (a manager outside ECS, or an older image). It
   * tags each job task (`TAG_KEYS.manager` in plan.ts), so the manager controller finds the job tasks of one manager among
   * those of several managers sharing one runner token.
   */
  readonly managerId?: string;
  /** Problems worth an administrator's attention that do not stop the stage; the CLI logs them. */
  readonly warnings: readonly string[];
}

const CUSTOM_ENV = 'CUSTOM_ENV_';

/**
 * The runner's short token, set by whoever starts gitlab-runner (the runner-manager image, a systemd unit) in
 * gitlab-runner's own environment. gitlab-runner starts every driver process with its own environment
 * (`os.Environ()`, https://github.com/gitlabhq/gitlab-runner/blob/main/executors/custom/command/command.go) and
 * adds the job's variables only as `CUSTOM_ENV_<name>` (`prepareCommand` in
 * https://github.com/gitlabhq/gitlab-runner/blob/main/executors/custom/custom.go), so no job can set or change this
 * variable. `CI_RUNNER_SHORT_TOKEN` is not so safe: `GetAllVariables` in
 * https://github.com/gitlabhq/gitlab-runner/blob/main/common/build.go puts the runner's variables before the job's,
 * and a job variable of the same name comes later and wins.
 */
export const RUNNER_IDENTITY_VARIABLE = 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN';

/**
 * The runner manager's own ECS task ID (the last part of its task ARN), which the runner-manager image's entrypoint
 * exports from the ECS task metadata endpoint into gitlab-runner's environment, like {@link RUNNER_IDENTITY_VARIABLE}.
 */
export const MANAGER_ID_VARIABLE = 'GITLAB_FARGATE_MANAGER_ID';

/** An ECS task ID: 32 hex digits today, a UUID for older tasks; the bound is ECS's tag value limit's share. */
const MANAGER_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Reads the runner-provided environment. Exit-code variables fall back to the runner's constants (1 and 2) when
 * unset, so the driver can run by hand; a value that is set but not a number is refused.
 */
export function readJobEnvironment(env: NodeJS.ProcessEnv): JobEnvironment {
  const variables = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(CUSTOM_ENV) && value !== undefined) {
      variables.set(key.slice(CUSTOM_ENV.length), value);
    }
  }
  const response = readJobResponse(env.JOB_RESPONSE_FILE);
  const runner = readRunnerIdentity(env[RUNNER_IDENTITY_VARIABLE], variables.get('CI_RUNNER_SHORT_TOKEN'));
  const managerId = readManagerId(env[MANAGER_ID_VARIABLE]);
  const jobId = response?.id ?? (variables.get('CI_JOB_ID') || '0');
  // With a payload, CI_JOB_TIMEOUT is the job's own word: it must not stretch the deadline the reaper goes by.
  const timeout = boundedTimeout(response === undefined ? positiveInteger(variables.get('CI_JOB_TIMEOUT')) : response.timeout);
  if (!/^\d+$/.test(jobId)) {
    throw new SystemFailure(`CUSTOM_ENV_CI_JOB_ID must be a number, found ${JSON.stringify(jobId)}`);
  }
  return {
    buildFailureExitCode: exitCode(env, 'BUILD_FAILURE_EXIT_CODE', 1),
    systemFailureExitCode: exitCode(env, 'SYSTEM_FAILURE_EXIT_CODE', 2),
    buildExitCodeFile: env.BUILD_EXIT_CODE_FILE || undefined,
    jobResponseFile: env.JOB_RESPONSE_FILE || undefined,
    tmpDir: env.TMPDIR || undefined,
    runnerShortToken: runner.token,
    jobId,
    pipelineId: variables.get('CI_PIPELINE_ID') ?? '',
    projectUrl: variables.get('CI_PROJECT_URL') ?? '',
    projectPath: response === undefined ? (variables.get('CI_PROJECT_PATH') ?? '') : (response.projectPath ?? ''),
    jobToken: variables.get('CI_JOB_TOKEN') || undefined,
    variables,
    ...(timeout.seconds !== undefined ? { jobTimeoutSeconds: timeout.seconds } : {}),
    ...(managerId !== undefined ? { managerId } : {}),
    warnings: [...runner.warnings, ...timeout.warnings],
  };
}

/**
 * The exit codes to use even when the environment is broken: the CLI needs them to report that very problem.
 */
export function exitCodesOf(env: NodeJS.ProcessEnv): { build: number; system: number } {
  const read = (name: string, fallback: number): number => {
    const parsed = parseExitCode(env[name]);
    return parsed ?? fallback;
  };
  return { build: read('BUILD_FAILURE_EXIT_CODE', 1), system: read('SYSTEM_FAILURE_EXIT_CODE', 2) };
}

function exitCode(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const parsed = parseExitCode(raw);
  if (parsed === undefined) {
    throw new SystemFailure(`${name} must be an exit code between 1 and 255, found ${JSON.stringify(raw)}`);
  }
  return parsed;
}

function parseExitCode(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= 255 ? n : undefined;
}

/** What the driver takes from the job payload the runner wrote. */
interface JobResponse {
  readonly id: string;
  readonly timeout?: number;
  /** From `git_info.repo_url`, see {@link projectPathOfRepoUrl}. */
  readonly projectPath?: string;
}

/**
 * The job id, timeout and project from the job payload the runner wrote. Unset (older runners, or the driver run by
 * hand): undefined. Set, the file is the only trusted source of the job id, so anything short of a readable JSON
 * object with a whole-number `id` is refused rather than replaced by the job-controlled `CI_JOB_ID`.
 */
function readJobResponse(path: string | undefined): JobResponse | undefined {
  if (path === undefined || path === '') return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SystemFailure(
      `JOB_RESPONSE_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? messageOf(error)}): gitlab-runner ` +
        'writes the job payload there before starting the driver, so the job id cannot be trusted without it',
      { cause: error },
    );
  }
  let response: unknown;
  try {
    response = JSON.parse(text);
  } catch {
    throw new SystemFailure(`JOB_RESPONSE_FILE ${path} is not valid JSON`);
  }
  const { id, runner_info: info, git_info: git } = (typeof response === 'object' && response !== null ? response : {}) as {
    id?: unknown;
    runner_info?: { timeout?: unknown };
    git_info?: { repo_url?: unknown };
  };
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    throw new SystemFailure(`JOB_RESPONSE_FILE ${path} has no job id (expected a whole number in "id", found ${describeJson(id)})`);
  }
  const timeout = info?.timeout;
  const projectPath = projectPathOfRepoUrl(git?.repo_url);
  return {
    id: String(id),
    ...(typeof timeout === 'number' && Number.isSafeInteger(timeout) && timeout > 0 ? { timeout } : {}),
    ...(projectPath !== undefined ? { projectPath } : {}),
  };
}

/**
 * The project's path in the payload's `git_info.repo_url` (`https://gitlab-ci-token:TOKEN@host/group/project.git` →
 * `group/project`): the URL's path without its leading `/` and `.git`, never its credentials. gitlab-runner's
 * `JobInfo` has only `project_id` and `project_name` (the display name, not unique), so the clone URL is the one
 * trusted source of the path (https://github.com/gitlabhq/gitlab-runner/blob/main/common/network.go). Behind a
 * relative URL root (`https://host/gitlab/...`) the root is part of the path.
 */
function projectPathOfRepoUrl(repoUrl: unknown): string | undefined {
  if (typeof repoUrl !== 'string') return undefined;
  let pathname: string;
  try {
    pathname = new URL(repoUrl).pathname;
  } catch {
    return undefined;
  }
  const path = pathname.replace(/^\/+/, '').replace(/\.git$/, '').replace(/\/+$/, '');
  return path === '' ? undefined : path;
}

/** A short description of a JSON value from the payload: its type, and the value itself only when it is a number. */
function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** A short token: gitlab-runner's are the first 8 or 9 characters after the token's prefix; up to 64 (as startedBy takes). */
const SHORT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** Prefixes of whole runner and registration tokens: secrets, never to be used (or echoed) as an identity. */
const FULL_TOKEN_PREFIXES = ['glrt-', 'glrtr-', 'GR1348941'];

/**
 * The runner's identity: {@link RUNNER_IDENTITY_VARIABLE} when set (validated), else the job's
 * `CI_RUNNER_SHORT_TOKEN` with a warning (upstream's behaviour, kept so upstream set-ups work), else `unknown`.
 */
function readRunnerIdentity(trusted: string | undefined, fromJob: string | undefined): { token: string; warnings: string[] } {
  const value = trusted?.trim() ?? '';
  if (value !== '') {
    if (FULL_TOKEN_PREFIXES.some((prefix) => value.startsWith(prefix))) {
      throw new SystemFailure(
        `${RUNNER_IDENTITY_VARIABLE} holds a whole runner token (a secret); set it to the runner's short token, as GitLab ` +
          'shows it on the runner page and in each job log ("Running with gitlab-runner ... on NAME SHORT_TOKEN")',
      );
    }
    if (!SHORT_TOKEN.test(value)) {
      throw new SystemFailure(`${RUNNER_IDENTITY_VARIABLE} must be the runner's short token (letters, digits, _ or -), found ${JSON.stringify(value)}`);
    }
    const warnings =
      fromJob !== undefined && fromJob !== '' && fromJob !== value
        ? [`the job's CI_RUNNER_SHORT_TOKEN ${JSON.stringify(fromJob.slice(0, 64))} differs from ${RUNNER_IDENTITY_VARIABLE} ${JSON.stringify(value)}; using ${RUNNER_IDENTITY_VARIABLE}`]
        : [];
    return { token: value, warnings };
  }
  if (fromJob === undefined || fromJob === '') return { token: 'unknown', warnings: [] };
  return {
    token: fromJob,
    warnings: [
      `${RUNNER_IDENTITY_VARIABLE} is not set in gitlab-runner's environment, so the runner identity (the tasks' ` +
        'startedBy, which gc and the orphan reaper go by, and the state file names) comes from CI_RUNNER_SHORT_TOKEN, ' +
        `which a job's variables can override; set ${RUNNER_IDENTITY_VARIABLE} to the runner's short token`,
    ],
  };
}

/** {@link MANAGER_ID_VARIABLE}, checked: unset or empty is undefined, anything but a task ID is refused. */
function readManagerId(raw: string | undefined): string | undefined {
  const value = raw?.trim() ?? '';
  if (value === '') return undefined;
  if (!MANAGER_ID.test(value)) {
    throw new SystemFailure(
      `${MANAGER_ID_VARIABLE} must be the runner manager's ECS task ID (letters, digits and -, the last part of its task ARN), ` +
        `found ${JSON.stringify(value.slice(0, 80))}; the runner-manager image sets it from the ECS task metadata endpoint`,
    );
  }
  return value;
}

/** A job timeout cut to {@link MAX_JOB_TIMEOUT_SECONDS}, saying so. */
function boundedTimeout(seconds: number | undefined): { seconds?: number; warnings: string[] } {
  if (seconds === undefined || seconds <= MAX_JOB_TIMEOUT_SECONDS) return { ...(seconds !== undefined ? { seconds } : {}), warnings: [] };
  return {
    seconds: MAX_JOB_TIMEOUT_SECONDS,
    warnings: [
      `the job's timeout of ${seconds} s is longer than GitLab allows (one month, ${MAX_JOB_TIMEOUT_SECONDS} s); its deadline, ` +
        `which decides how long the orphan reaper spares its task, uses ${MAX_JOB_TIMEOUT_SECONDS} s. Set the runner's ` +
        '"Maximum job timeout" in GitLab to bound it',
    ],
  };
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
