import { randomBytes } from 'node:crypto';
import type { JobSpec } from './job.js';
import { featureFlagDefaults } from './feature-flags.js';
import { imagePayload, servicesPayload } from './job-image.js';
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

/** The project folder inside the job environment (`Build.FullProjectDir`); empty until config has answered. */
export function projectDir(location: BuildLocation, runnerToken: string, identity: JobIdentity): string {
  if (location.buildsDir === '') return '';
  return location.buildsDirIsShared
    ? `${location.buildsDir}/${shortToken(runnerToken)}/${identity.concurrentProjectId}/${identity.projectPath}`
    : `${location.buildsDir}/${identity.projectPath}`;
}

/** The variables GitLab sends with the job (its predefined ones, then the job's own): `response.json` holds these. */
export function gitlabJobVariables(job: JobSpec, runner: RunnerSettings, identity: JobIdentity): Record<string, string> {
  const server = runner.url.replace(/\/+$/, '');
  const [namespace, projectName] = splitPath(identity.projectPath);
  return {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: server,
    CI_JOB_ID: String(identity.jobId),
    CI_JOB_NAME: job.name,
    CI_JOB_STAGE: 'test',
    CI_JOB_TOKEN: identity.jobToken,
    CI_JOB_URL: `${server}/${identity.projectPath}/-/jobs/${identity.jobId}`,
    CI_PIPELINE_ID: String(identity.pipelineId),
    CI_PROJECT_ID: String(identity.projectId),
    CI_PROJECT_PATH: identity.projectPath,
    CI_PROJECT_PATH_SLUG: identity.projectPath.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 63),
    CI_PROJECT_NAMESPACE: namespace,
    CI_PROJECT_NAME: projectName,
    CI_PROJECT_URL: `${server}/${identity.projectPath}`,
    CI_RUNNER_DESCRIPTION: runner.name,
    // GitLab's predefined variable for a job with an image (a custom executor's only hint of it besides the payload).
    ...(job.image === undefined ? {} : { CI_JOB_IMAGE: job.image.name }),
    ...job.fileVariables,
    ...job.variables,
  };
}

/**
 * Every variable of the job, in gitlab-runner's order and precedence (common/build.go `GetAllVariables`,
 * https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/common/build.go): feature flags first, then the runner's
 * (`CI_RUNNER_SHORT_TOKEN`, `environment`), the runner's defaults (`CI_BUILDS_DIR`, `CI_PROJECT_DIR`,
 * `CI_JOB_TIMEOUT`, …), what GitLab sends (which overrides all of those: a job variable can set
 * `CI_RUNNER_SHORT_TOKEN` or `CI_JOB_TIMEOUT`), and last what the runner adds after the job's. Every value is then
 * `$`-expanded once against the whole list, as `Variables.Expand` does.
 */
export function jobVariables(
  job: JobSpec,
  runner: RunnerSettings,
  identity: JobIdentity,
  location: BuildLocation,
): Record<string, string> {
  const dir = projectDir(location, runner.token, identity);
  const fromJob = gitlabJobVariables(job, runner, identity);
  const ordered: [string, string][] = [
    ...featureFlagDefaults.map(([name, enabled]): [string, string] => {
      const value = fromJob[name] !== undefined ? parseGoBool(fromJob[name]) ?? enabled : enabled;
      return [name, String(value)];
    }),
    ['CI_RUNNER_SHORT_TOKEN', shortToken(runner.token)],
    ...runner.environment.map((pair): [string, string] => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
    ['CI_BUILDS_DIR', location.buildsDir],
    ['CI_PROJECT_DIR', dir],
    ['CI_CONCURRENT_ID', String(identity.concurrentId)],
    ['CI_CONCURRENT_PROJECT_ID', String(identity.concurrentProjectId)],
    ['CI_SERVER', 'yes'],
    ['CI_JOB_STATUS', 'running'],
    ['CI_JOB_TIMEOUT', String(job.timeoutSeconds)],
    ...Object.entries(fromJob).filter(([name]) => !featureFlagNames.has(name)),
    // The custom executor declares itself shared (`features.Shared`), so the runner sets CI_SHARED_ENVIRONMENT.
    ['CI_SHARED_ENVIRONMENT', 'true'],
    ['CI_RUNNER_VERSION', runnerVersion],
    ['CI_RUNNER_EXECUTABLE_ARCH', `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`],
    ['RUNNER_TEMP_PROJECT_DIR', `${dir}.tmp`],
  ];
  return expandVariables(ordered);
}

const featureFlagNames = new Set(featureFlagDefaults.map(([name]) => name));

/** The gitlab-runner release whose behaviour the harness plays. */
export const runnerVersion = '19.3.0';

/** Go's `strconv.ParseBool`, which feature-flag values go through. */
function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/**
 * `Variables.Expand`: each value expanded once with Go's `os.Expand` against the unexpanded list (the last value
 * of a name wins); the result keeps each name at its first place and its last value.
 */
export function expandVariables(ordered: readonly (readonly [string, string])[]): Record<string, string> {
  const raw = new Map<string, string>();
  for (const [name, value] of ordered) raw.set(name, value);
  const lookup = (name: string): string => (name === '$' ? '$' : raw.get(name) ?? '');
  const expanded: Record<string, string> = {};
  for (const [name, value] of ordered) expanded[name] = goExpand(value, lookup);
  return expanded;
}

/** Go's `os.Expand`: `$NAME`, `${NAME}` and `$` + one special character; bad `${` syntax is dropped. */
export function goExpand(text: string, lookup: (name: string) => string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0 || dollar === text.length - 1) return out + text.slice(i);
    out += text.slice(i, dollar);
    const { name, width } = shellName(text.slice(dollar + 1));
    if (name !== '') out += lookup(name);
    else if (width === 0) out += '$';
    i = dollar + 1 + width;
  }
  return out;
}

function shellName(s: string): { name: string; width: number } {
  const special = (c: string | undefined) => c !== undefined && /^[*#$@!?\-0-9]$/.test(c);
  if (s[0] === '{') {
    if (s.length > 2 && special(s[1]) && s[2] === '}') return { name: s[1]!, width: 3 };
    const close = s.indexOf('}', 1);
    if (close < 0) return { name: '', width: 1 };
    if (close === 1) return { name: '', width: 2 };
    return { name: s.slice(1, close), width: close + 1 };
  }
  if (special(s[0])) return { name: s[0]!, width: 1 };
  const match = /^[A-Za-z0-9_]*/.exec(s)![0];
  return { name: match, width: match.length };
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
 * `job_env` from the config stage (which wins over both), and `CUSTOM_ENV_<NAME>` for every job variable.
 */
export function driverEnvironment(
  base: NodeJS.ProcessEnv,
  files: JobFiles,
  variables: Readonly<Record<string, string>>,
  jobEnv: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  // executors/custom/command/command.go appends these after os.Environ(), then job_env and CUSTOM_ENV_*; in Go's
  // exec the last of a name wins, so job_env can override even TMPDIR.
  const env: NodeJS.ProcessEnv = {
    ...base,
    TMPDIR: files.tmpDir,
    BUILD_FAILURE_EXIT_CODE: String(buildFailureExitCode),
    SYSTEM_FAILURE_EXIT_CODE: String(systemFailureExitCode),
    BUILD_EXIT_CODE_FILE: files.buildExitCodeFile,
    JOB_RESPONSE_FILE: files.jobResponseFile,
    ...jobEnv,
  };
  for (const [name, value] of Object.entries(variables)) {
    env[`CUSTOM_ENV_${name}`] = value;
  }
  env.CUSTOM_ENV_CI_JOB_SERVICES = '';
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
    image: imagePayload(job.image),
    services: servicesPayload(job.services ?? []),
    artifacts: job.artifacts ? [{ name: 'artifacts', paths: job.artifacts.paths, when: job.artifacts.when, artifact_type: 'archive', artifact_format: 'zip' }] : [],
    cache: job.cache ? [{ key: 'default', paths: job.cache.paths, when: job.cache.when, policy: 'pull-push' }] : [],
    dependencies: (job.dependencies ?? []).map((name, index) => ({ id: index + 1, name, token: '', artifacts_file: { filename: 'artifacts.zip', size: 0 } })),
    features: { trace_sections: true },
  };
}

function splitPath(projectPath: string): [string, string] {
  const at = projectPath.lastIndexOf('/');
  return at < 0 ? ['', projectPath] : [projectPath.slice(0, at), projectPath.slice(at + 1)];
}
