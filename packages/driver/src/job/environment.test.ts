import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodesOf, readJobEnvironment } from './environment.js';

describe('readJobEnvironment', () => {
  it('reads what gitlab-runner provides', () => {
    const env = readJobEnvironment({
      BUILD_FAILURE_EXIT_CODE: '1',
      SYSTEM_FAILURE_EXIT_CODE: '2',
      BUILD_EXIT_CODE_FILE: '/tmp/custom-executor1/build_exit_code',
      JOB_RESPONSE_FILE: '/tmp/custom-executor1/response.json',
      TMPDIR: '/tmp/custom-executor1',
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
      jobResponseFile: '/tmp/custom-executor1/response.json',
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
    expect(readJobEnvironment({ JOB_RESPONSE_FILE: join(dir, 'missing.json'), CUSTOM_ENV_CI_JOB_ID: '999' }).jobId).toBe('999');
    writeFileSync(response, '{broken');
    expect(() => readJobEnvironment({ JOB_RESPONSE_FILE: response })).toThrow(/JOB_RESPONSE_FILE .* is not valid JSON/);
  });

  it("takes the job timeout from the runner's job payload, else CI_JOB_TIMEOUT", () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-env-'));
    const response = join(dir, 'response.json');
    writeFileSync(response, JSON.stringify({ id: 5, runner_info: { timeout: 3600 } }));
    expect(readJobEnvironment({ JOB_RESPONSE_FILE: response, CUSTOM_ENV_CI_JOB_TIMEOUT: '60' }).jobTimeoutSeconds).toBe(3600);
    expect(readJobEnvironment({ CUSTOM_ENV_CI_JOB_TIMEOUT: '600' }).jobTimeoutSeconds).toBe(600);
    expect(readJobEnvironment({ CUSTOM_ENV_CI_JOB_TIMEOUT: '1h' }).jobTimeoutSeconds).toBeUndefined();
    expect(readJobEnvironment({}).jobTimeoutSeconds).toBeUndefined();
  });

  it('still finds usable exit codes when the environment is broken', () => {
    expect(exitCodesOf({ SYSTEM_FAILURE_EXIT_CODE: 'two', BUILD_FAILURE_EXIT_CODE: '7' })).toEqual({ build: 7, system: 2 });
  });
});
