import { parseRunnerConfig } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { featureFlagDefaults } from './feature-flags.js';
import type { JobSpec } from './job.js';
import { driverEnvironment, goExpand, jobIdentity, jobVariables } from './job-environment.js';
import { localRunnerConfigToml } from './fixtures/local-runner-config.js';
import { shortToken, type RunnerSettings } from './runner-settings.js';

const runner: RunnerSettings = {
  ...parseRunnerConfig(localRunnerConfigToml()).config.runners[0]!,
  environment: ['RUNNER_WIDE=yes', 'GREETING=hello from job $CI_JOB_ID in ${CI_PROJECT_PATH}', 'PRICE=$$5 $ 100%', 'EMPTY=$NOT_SET.'],
};
const job: JobSpec = { name: 'unit', script: ['true'], afterScript: [], variables: {}, timeoutSeconds: 600 };
const identity = jobIdentity({ jobId: 77, projectPath: 'group/app' });
const location = { buildsDir: '/builds', cacheDir: '/cache', buildsDirIsShared: false };

describe('shortToken', () => {
  it('drops the known prefixes and keeps 9 characters, as gitlab-runner does', () => {
    expect(shortToken('glrt-t1_abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('glrt-abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('t3_abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('glrtr-abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('GR1348941abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('legacytoken123')).toBe('legacytok');
    expect(shortToken('short')).toBe('short');
  });
});

describe('jobVariables', () => {
  it("puts gitlab-runner's feature flags first, then the runner's variables, then the job's", () => {
    const names = Object.keys(jobVariables(job, runner, identity, location));
    expect(names.slice(0, featureFlagDefaults.length)).toEqual(featureFlagDefaults.map(([name]) => name));
    expect(names.slice(featureFlagDefaults.length, featureFlagDefaults.length + 3)).toEqual(['CI_RUNNER_SHORT_TOKEN', 'RUNNER_WIDE', 'GREETING']);
    expect(names.indexOf('CI_JOB_TIMEOUT')).toBeLessThan(names.indexOf('CI_JOB_ID'));
    expect(names.length).toBeGreaterThan(80);
  });

  it('expands $ references once, against every variable, as Variables.Expand does', () => {
    const variables = jobVariables(job, runner, identity, location);
    expect(variables.GREETING).toBe('hello from job 77 in group/app');
    expect(variables.PRICE).toBe('$5 $ 100%');
    expect(variables.EMPTY).toBe('.');
  });

  it('lets job variables override the runner\'s, and take feature flags as booleans', () => {
    const overriding = { ...job, variables: { CI_RUNNER_SHORT_TOKEN: 'custom', CI_JOB_TIMEOUT: '5', FF_USE_FASTZIP: '1' } };
    const variables = jobVariables(overriding, runner, identity, location);
    expect(variables).toMatchObject({ CI_RUNNER_SHORT_TOKEN: 'custom', CI_JOB_TIMEOUT: '5', FF_USE_FASTZIP: 'true', CI_PROJECT_DIR: '/builds/group/app' });
    expect(Object.keys(variables).indexOf('FF_USE_FASTZIP')).toBeLessThan(featureFlagDefaults.length);
  });

  it('leaves CI_BUILDS_DIR and CI_PROJECT_DIR empty while the builds folder is unknown (the config stage)', () => {
    const variables = jobVariables(job, runner, identity, { buildsDir: '', cacheDir: '', buildsDirIsShared: false });
    expect(variables).toMatchObject({ CI_BUILDS_DIR: '', CI_PROJECT_DIR: '' });
  });
});

describe('goExpand', () => {
  it("follows Go's os.Expand on odd syntax", () => {
    const lookup = (name: string) => ({ A: 'a', $: '$' })[name] ?? '';
    expect(goExpand('$A ${A} $$ $', lookup)).toBe('a a $ $');
    expect(goExpand('x${}y ${A', lookup)).toBe('xy A');
    expect(goExpand('$1$-$/', lookup)).toBe('$/');
  });
});

describe('driverEnvironment', () => {
  it("lets the config stage's job_env override the protocol's variables, even TMPDIR, but not CUSTOM_ENV_*", () => {
    const files = { tmpDir: '/tmp/custom-executor1', buildExitCodeFile: '/tmp/custom-executor1/build_exit_code', jobResponseFile: '/tmp/r.json' };
    const env = driverEnvironment({ PATH: '/bin', TMPDIR: '/tmp' }, files, { CI_JOB_ID: '77' }, { TMPDIR: '/var/tmp/job', CUSTOM_ENV_CI_JOB_ID: '1' });
    expect(env).toMatchObject({ PATH: '/bin', TMPDIR: '/var/tmp/job', CUSTOM_ENV_CI_JOB_ID: '77', BUILD_EXIT_CODE_FILE: files.buildExitCodeFile });
  });
});
