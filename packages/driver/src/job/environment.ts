import { readFileSync } from 'node:fs';
import { SystemFailure } from '../errors.js';

/**
 * What gitlab-runner's custom executor hands every driver process through its environment
 * (reference: fargate-driver.md §C.2).
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
  /** `CI_RUNNER_SHORT_TOKEN`, or `unknown`. */
  readonly runnerShortToken: string;
  /**
   * The job id from `JOB_RESPONSE_FILE` (written by the runner, so trusted), else `CI_JOB_ID`, else `0` (upstream's
   * behaviour: config/validate can run outside a job). `CUSTOM_ENV_*` values can be set by the job author, and the
   * job id names the state file: a forged one must not lead to another job's task.
   */
  readonly jobId: string;
  /** `CI_PIPELINE_ID`, or empty. */
  readonly pipelineId: string;
  /** `CI_PROJECT_URL`, or empty. */
  readonly projectUrl: string;
  /** `CI_PROJECT_PATH`, or empty. */
  readonly projectPath: string;
  /** `CI_JOB_TOKEN`: only ever registered as a secret to mask, never logged or stored. */
  readonly jobToken?: string;
  /** Every job variable, without the `CUSTOM_ENV_` prefix. */
  readonly variables: ReadonlyMap<string, string>;
  /**
   * The job's timeout in seconds, from the runner's `JOB_RESPONSE_FILE` (`runner_info.timeout`), else
   * `CI_JOB_TIMEOUT`; undefined when neither gives a positive whole number.
   */
  readonly jobTimeoutSeconds?: number;
}

const CUSTOM_ENV = 'CUSTOM_ENV_';

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
  const jobId = response.id ?? (variables.get('CI_JOB_ID') || '0');
  const jobTimeoutSeconds = response.timeout ?? positiveInteger(variables.get('CI_JOB_TIMEOUT'));
  if (!/^\d+$/.test(jobId)) {
    throw new SystemFailure(`CUSTOM_ENV_CI_JOB_ID must be a number, found ${JSON.stringify(jobId)}`);
  }
  return {
    buildFailureExitCode: exitCode(env, 'BUILD_FAILURE_EXIT_CODE', 1),
    systemFailureExitCode: exitCode(env, 'SYSTEM_FAILURE_EXIT_CODE', 2),
    buildExitCodeFile: env.BUILD_EXIT_CODE_FILE || undefined,
    jobResponseFile: env.JOB_RESPONSE_FILE || undefined,
    tmpDir: env.TMPDIR || undefined,
    runnerShortToken: variables.get('CI_RUNNER_SHORT_TOKEN') || 'unknown',
    jobId,
    pipelineId: variables.get('CI_PIPELINE_ID') ?? '',
    projectUrl: variables.get('CI_PROJECT_URL') ?? '',
    projectPath: variables.get('CI_PROJECT_PATH') ?? '',
    jobToken: variables.get('CI_JOB_TOKEN') || undefined,
    variables,
    ...(jobTimeoutSeconds !== undefined ? { jobTimeoutSeconds } : {}),
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

/** The `id` of the job payload the runner wrote, when the file is there and holds one. */
function readJobResponse(path: string | undefined): { id?: string; timeout?: number } {
  if (path === undefined || path === '') return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  let response: { id?: unknown; runner_info?: { timeout?: unknown } };
  try {
    response = JSON.parse(text) as typeof response;
  } catch {
    throw new SystemFailure(`JOB_RESPONSE_FILE ${path} is not valid JSON`);
  }
  const id = response.id;
  const timeout = response.runner_info?.timeout;
  return {
    ...(typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? { id: String(id) } : {}),
    ...(typeof timeout === 'number' && Number.isSafeInteger(timeout) && timeout > 0 ? { timeout } : {}),
  };
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
