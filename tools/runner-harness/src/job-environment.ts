import { randomBytes } from 'node:crypto';
import type { JobSpec } from './job.js';
import { shortToken, type RunnerSettings } from './runner-settings.js';

/** The identity GitLab would give a job; the harness invents what it is not told. */
export interface JobIdentity {
  readonly jobId: number;
  readonly pipelineId: number;
  readonly projectId: number;
  /** `namespace/project`. */
  readonly projectPath: string;
  readonly concurrentId: number;
  readonly concurrentProjectId: number;
  /** `CI_JOB_TOKEN`: secret, valid for this job only. */
  readonly jobToken: string;
}

/** Fills in an identity: ids a real GitLab instance could have handed out. */
export function jobIdentity(partial: Partial<JobIdentity> = {}): JobIdentity {
  const id = () => 1 + randomBytes(4).readUInt32BE() % 2_000_000_000;
  return {
    jobId: partial.jobId ?? id(),
    pipelineId: partial.pipelineId ?? id(),
    projectId: partial.projectId ?? 4242,
    projectPath: partial.projectPath ?? 'demo/fargate-project',
    concurrentId: partial.concurrentId ?? 0,
    concurrentProjectId: partial.concurrentProjectId ?? 0,
    jobToken: partial.jobToken ?? `glcbt-${randomBytes(20).toString('base64url')}`,
  };
}

/** Where the job's files live inside the job environment, given the config stage's answer. */
export interface BuildLocation {
  readonly buildsDir: string;
  readonly cacheDir: string;
  readonly buildsDirIsShared: boolean;
}

/**
 * Every variable of the job: GitLab's predefined ones, then the runner's `environment`, then the job's own
 * (later ones win, as in GitLab's precedence).
 */
export function jobVariables(
  job: JobSpec,
  runner: RunnerSettings,
  identity: JobIdentity,
  location: BuildLocation,
): Record<string, string> {
  const server = runner.url.replace(/\/+$/, '');
  const runnerShortToken = shortToken(runner.token);
  const projectDir = location.buildsDirIsShared
    ? `${location.buildsDir}/${runnerShortToken}/${identity.concurrentProjectId}/${identity.projectPath}`
    : `${location.buildsDir}/${identity.projectPath}`;
  const [namespace, projectName] = splitPath(identity.projectPath);
  const predefined: Record<string, string> = {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER: 'yes',
    CI_SERVER_URL: server,
    CI_JOB_ID: String(identity.jobId),
    CI_JOB_NAME: job.name,
    CI_JOB_STAGE: 'test',
    CI_JOB_TOKEN: identity.jobToken,
    CI_JOB_URL: `${server}/${identity.projectPath}/-/jobs/${identity.jobId}`,
    CI_JOB_TIMEOUT: String(job.timeoutSeconds),
    CI_PIPELINE_ID: String(identity.pipelineId),
    CI_PROJECT_ID: String(identity.projectId),
    CI_PROJECT_PATH: identity.projectPath,
    CI_PROJECT_PATH_SLUG: identity.projectPath.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 63),
    CI_PROJECT_NAMESPACE: namespace,
    CI_PROJECT_NAME: projectName,
    CI_PROJECT_URL: `${server}/${identity.projectPath}`,
    CI_PROJECT_DIR: projectDir,
    CI_BUILDS_DIR: location.buildsDir,
    CI_RUNNER_DESCRIPTION: runner.name,
    CI_RUNNER_SHORT_TOKEN: runnerShortToken,
    CI_CONCURRENT_ID: String(identity.concurrentId),
    CI_CONCURRENT_PROJECT_ID: String(identity.concurrentProjectId),
  };
  const fromRunner = Object.fromEntries(
    runner.environment.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return { ...predefined, ...fromRunner, ...job.variables };
}

/** Files gitlab-runner places in the per-job temporary folder. */
export interface JobFiles {
  readonly tmpDir: string;
  readonly buildExitCodeFile: string;
  readonly jobResponseFile: string;
}

/** gitlab-runner's constants: drivers should read the variables, never hard-code these. */
export const buildFailureExitCode = 1;
export const systemFailureExitCode = 2;

/**
 * The environment of every driver process: the runner's own environment, the protocol's variables,
 * `job_env` from the config stage, and `CUSTOM_ENV_<NAME>` for every job variable.
 */
export function driverEnvironment(
  base: NodeJS.ProcessEnv,
  files: JobFiles,
  variables: Readonly<Record<string, string>>,
  jobEnv: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    ...jobEnv,
    TMPDIR: files.tmpDir,
    BUILD_FAILURE_EXIT_CODE: String(buildFailureExitCode),
    SYSTEM_FAILURE_EXIT_CODE: String(systemFailureExitCode),
    BUILD_EXIT_CODE_FILE: files.buildExitCodeFile,
    JOB_RESPONSE_FILE: files.jobResponseFile,
    CUSTOM_ENV_CI_JOB_SERVICES: '',
  };
  for (const [name, value] of Object.entries(variables)) {
    env[`CUSTOM_ENV_${name}`] = value;
  }
  return env;
}

/** The job payload gitlab-runner writes to `response.json`: the trusted copy of the job's data. */
export function jobResponse(job: JobSpec, identity: JobIdentity, variables: Readonly<Record<string, string>>): object {
  return {
    id: identity.jobId,
    token: variables.CI_JOB_TOKEN,
    allow_git_fetch: false,
    job_info: { name: job.name, stage: 'test', project_id: identity.projectId, project_name: splitPath(identity.projectPath)[1] },
    git_info: { repo_url: `${variables.CI_PROJECT_URL}.git`, ref: 'main', sha: '', before_sha: '', ref_type: 'branch' },
    runner_info: { timeout: job.timeoutSeconds },
    variables: Object.entries(variables).map(([key, value]) => ({ key, value, public: key !== 'CI_JOB_TOKEN', masked: key === 'CI_JOB_TOKEN' })),
    steps: [
      { name: 'script', script: job.script, timeout: job.timeoutSeconds, when: 'on_success', allow_failure: false },
      ...(job.afterScript.length > 0
        ? [{ name: 'after_script', script: job.afterScript, timeout: job.timeoutSeconds, when: 'always', allow_failure: true }]
        : []),
    ],
    image: { name: '' },
    services: [],
    artifacts: [],
    cache: [],
    features: { trace_sections: true },
  };
}

function splitPath(projectPath: string): [string, string] {
  const at = projectPath.lastIndexOf('/');
  return at < 0 ? ['', projectPath] : [projectPath.slice(0, at), projectPath.slice(at + 1)];
}
