import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_JOB_TIMEOUT_SECONDS } from './deadline.js';
import { exitCodesOf, readJobEnvironment } from './environment.js';

describe('readJobEnvironment', () => {
  it('reads what gitlab-runner provides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    writeFileSync(response, JSON.stringify({ id: 123, token: 'glcbt-secret-token', git_info: { repo_url: 'https://gitlab.example/group/project.git' } }));
    const env = readJobEnvironment({
      BUILD_FAILURE_EXIT_CODE: '1',
      SYSTEM_FAILURE_EXIT_CODE: '2',
      BUILD_EXIT_CODE_FILE: '/tmp/custom-executor1/build_exit_code',
      JOB_RESPONSE_FILE: response,
      TMPDIR: '/tmp/custom-executor1',
      GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc123xyz',
      CUSTOM_ENV_CI_JOB_ID: '123',
      CUSTOM_ENV_CI_PIPELINE_ID: '45',
      CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz',
      CUSTOM_ENV_CI_PROJECT_URL: 'https://gitlab.example/group/project',
      CUSTOM_ENV_CI_PROJECT_PATH: 'group/project',
      CUSTOM_ENV_CI_JOB_TOKEN: 'glcbt-secret-token',
      CUSTOM_ENV_FARGATE_CPU: '1024',
      PATH: '/usr/bin',
    });
    expect(env).toMatchObject({
      buildFailureExitCode: 1,
      systemFailureExitCode: 2,
      buildExitCodeFile: '/tmp/custom-executor1/build_exit_code',
      jobResponseFile: response,
      tmpDir: '/tmp/custom-executor1',
      jobId: '123',
      pipelineId: '45',
      runnerShortToken: 'abc123xyz',
      projectUrl: 'https://gitlab.example/group/project',
      projectPath: 'group/project',
      jobToken: 'glcbt-secret-token',
    });
    expect(env.variables.get('FARGATE_CPU')).toBe('1024');
    expect(env.variables.has('PATH')).toBe(false);
    expect(env.warnings).toEqual([]);
  });

  it('falls back to the runner constants and upstream defaults outside a job', () => {
    const env = readJobEnvironment({});
    expect(env).toMatchObject({ buildFailureExitCode: 1, systemFailureExitCode: 2, jobId: '0', runnerShortToken: 'unknown' });
    expect(env.buildExitCodeFile).toBeUndefined();
  });

  it('refuses broken values, naming the variable', () => {
    expect(() => readJobEnvironment({ SYSTEM_FAILURE_EXIT_CODE: 'two' })).toThrow(/SYSTEM_FAILURE_EXIT_CODE must be an exit code between 1 and 255, found "two"/);
    expect(() => readJobEnvironment({ BUILD_FAILURE_EXIT_CODE: '0' })).toThrow(/BUILD_FAILURE_EXIT_CODE/);
    expect(() => readJobEnvironment({ CUSTOM_ENV_CI_JOB_ID: '12; rm -rf /' })).toThrow(/CUSTOM_ENV_CI_JOB_ID must be a number/);
  });

  it("takes the job id from the runner's job payload over a CI_JOB_ID the job author may have set", () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    writeFileSync(response, JSON.stringify({ id: 123, token: 'glcbt-x', variables: [] }));
    expect(readJobEnvironment({ JOB_RESPONSE_FILE: response, CUSTOM_ENV_CI_JOB_ID: '999' }).jobId).toBe('123');
    expect(readJobEnvironment({ CUSTOM_ENV_CI_JOB_ID: '999' }).jobId).toBe('999'); // a runner that writes no payload
  });

  it("takes the project from the payload's clone URL, not from a CI_PROJECT_PATH the job may have set", () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    const withRepoUrl = (repoUrl: unknown) => {
      writeFileSync(response, JSON.stringify({ id: 5, token: 't', job_info: { project_id: 9, project_name: 'Project' }, git_info: { repo_url: repoUrl } }));
      return readJobEnvironment({ JOB_RESPONSE_FILE: response, CUSTOM_ENV_CI_PROJECT_PATH: 'other-team/billing' }).projectPath;
    };
    expect(withRepoUrl('https://gitlab-ci-token:glcbt-secret@gitlab.example/my-group/sub/project.git')).toBe('my-group/sub/project');
    expect(withRepoUrl('https://gitlab.example/gitlab/group/project.git')).toBe('gitlab/group/project'); // a relative URL root stays
    expect(withRepoUrl('https://gitlab.example/group/proj%0Aect.git')).toBe('group/proj%0Aect');
    // A payload without a usable clone URL gives no project rather than the job's word for it.
    for (const missing of [undefined, 42, 'not a url', 'https://gitlab.example/']) expect(withRepoUrl(missing), String(missing)).toBe('');
    // Without a payload (older runners, by hand) the variable is all there is.
    expect(readJobEnvironment({ CUSTOM_ENV_CI_PROJECT_PATH: 'group/project' }).projectPath).toBe('group/project');
  });

  it('refuses a JOB_RESPONSE_FILE that is set but unreadable, not JSON or without a job id, instead of using CI_JOB_ID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    const read = (file: string) => () => readJobEnvironment({ JOB_RESPONSE_FILE: file, CUSTOM_ENV_CI_JOB_ID: '999' });
    expect(read(join(dir, 'missing.json'))).toThrow(new RegExp(`^JOB_RESPONSE_FILE ${dir}/missing.json cannot be read \\(ENOENT\\): gitlab-runner writes the job payload there`));
    expect(read(dir)).toThrow(/cannot be read \(EISDIR\)/);
    writeFileSync(response, '{broken');
    expect(read(response)).toThrow(/JOB_RESPONSE_FILE .* is not valid JSON/);
    for (const [payload, found] of [['{}', 'nothing'], ['{"id":"999"}', 'string'], ['{"id":-1}', '-1'], ['{"id":1.5}', '1.5'], ['null', 'nothing'], ['[1]', 'nothing']]) {
      writeFileSync(response, payload as string);
      expect(read(response), payload).toThrow(`JOB_RESPONSE_FILE ${response} has no job id (expected a whole number in "id", found ${found})`);
    }
    expect(() => readJobEnvironment({ JOB_RESPONSE_FILE: '', CUSTOM_ENV_CI_JOB_ID: '7' })).not.toThrow(); // empty = unset
  });

  it("takes the runner identity from gitlab-runner's own environment, which no job variable can change", () => {
    const trusted = readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 't3_abc123', CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'victim999' });
    expect(trusted.runnerShortToken).toBe('t3_abc123');
    expect(trusted.warnings).toEqual([
      `the job's CI_RUNNER_SHORT_TOKEN "victim999" differs from GITLAB_FARGATE_RUNNER_SHORT_TOKEN "t3_abc123"; using GITLAB_FARGATE_RUNNER_SHORT_TOKEN`,
    ]);
    expect(readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 't3_abc123', CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 't3_abc123' }).warnings).toEqual([]);
  });

  it('falls back to the job-controlled CI_RUNNER_SHORT_TOKEN with a warning when no trusted identity is set', () => {
    const upstream = readJobEnvironment({ CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz' });
    expect(upstream.runnerShortToken).toBe('abc123xyz');
    expect(upstream.warnings).toEqual([expect.stringMatching(/^GITLAB_FARGATE_RUNNER_SHORT_TOKEN is not set in gitlab-runner's environment, .*a job's variables can override/)]);
    expect(readJobEnvironment({}).warnings).toEqual([]); // by hand, outside a job: nothing taken from a job
  });

  it('refuses a trusted identity that is not a short token, without echoing a whole runner token', () => {
    const secret = 'glrt-t3_SuperSecretRunnerToken';
    expect(() => readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: secret })).toThrow(/holds a whole runner token \(a secret\)/);
    try {
      readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: secret });
    } catch (error) {
      expect((error as Error).message).not.toContain('SuperSecret');
    }
    expect(() => readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc def' })).toThrow(
      /GITLAB_FARGATE_RUNNER_SHORT_TOKEN must be the runner's short token \(letters, digits, _ or -\), found "abc def"/,
    );
  });

  it("takes the job timeout from the runner's job payload, else CI_JOB_TIMEOUT", () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    writeFileSync(response, JSON.stringify({ id: 5, runner_info: { timeout: 3600 } }));
    expect(readJobEnvironment({ JOB_RESPONSE_FILE: response, CUSTOM_ENV_CI_JOB_TIMEOUT: '60' }).jobTimeoutSeconds).toBe(3600);
    // A payload without a timeout: the job's CI_JOB_TIMEOUT must not set the deadline the reaper goes by.
    writeFileSync(response, JSON.stringify({ id: 5, runner_info: {} }));
    expect(readJobEnvironment({ JOB_RESPONSE_FILE: response, CUSTOM_ENV_CI_JOB_TIMEOUT: '250000000000' }).jobTimeoutSeconds).toBeUndefined();
    expect(readJobEnvironment({ CUSTOM_ENV_CI_JOB_TIMEOUT: '600' }).jobTimeoutSeconds).toBe(600);
    expect(readJobEnvironment({ CUSTOM_ENV_CI_JOB_TIMEOUT: '1h' }).jobTimeoutSeconds).toBeUndefined();
    expect(readJobEnvironment({}).jobTimeoutSeconds).toBeUndefined();
  });

  it("cuts a job timeout longer than GitLab's maximum (one month) to it, with a warning", () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    writeFileSync(response, JSON.stringify({ id: 5, runner_info: { timeout: 9_000_000_000_000_000 } }));
    const fromPayload = readJobEnvironment({ JOB_RESPONSE_FILE: response });
    expect(fromPayload.jobTimeoutSeconds).toBe(MAX_JOB_TIMEOUT_SECONDS);
    expect(fromPayload.warnings).toEqual([expect.stringMatching(/timeout of 9000000000000000 s is longer than GitLab allows \(one month, 2629746 s\).*"Maximum job timeout"/)]);
    const fromVariable = readJobEnvironment({ CUSTOM_ENV_CI_JOB_TIMEOUT: '250000000000' });
    expect(fromVariable.jobTimeoutSeconds).toBe(MAX_JOB_TIMEOUT_SECONDS);
    const atTheMaximum = readJobEnvironment({ CUSTOM_ENV_CI_JOB_TIMEOUT: String(MAX_JOB_TIMEOUT_SECONDS) });
    expect(atTheMaximum).toMatchObject({ jobTimeoutSeconds: MAX_JOB_TIMEOUT_SECONDS, warnings: [] });
  });

  it('still finds usable exit codes when the environment is broken', () => {
    expect(exitCodesOf({ SYSTEM_FAILURE_EXIT_CODE: 'two', BUILD_FAILURE_EXIT_CODE: '7' })).toEqual({ build: 7, system: 2 });
  });
});
