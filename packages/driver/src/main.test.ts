import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from './main.js';

/** Runs one driver command in-process, its log in a file; returns the exit code and the log. */
async function driver(args: readonly string[], env: Record<string, string>): Promise<{ code: number; log: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'driver-main-'));
  const config = join(cwd, 'driver.toml');
  writeFileSync(config, '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\n');
  const logFile = join(cwd, 'driver.log');
  writeFileSync(join(cwd, 'script.sh'), 'true\n');
  const code = await main({
    argv: ['--config', config, '--log-file', logFile, ...args],
    env: { CUSTOM_ENV_CI_JOB_ID: '7', ...env },
    cwd,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdoutFd: 1,
    stderrFd: 2,
    signal: new AbortController().signal,
  });
  return { code, log: readFileSync(logFile, 'utf8') };
}

describe('main: runner identity warnings', () => {
  // A refused override ends prepare before any AWS call; a run stage without state fails before SSH.
  const refused = { CUSTOM_ENV_FARGATE_TASK_DEFINITION: 'admin' };

  it('logs an untrusted runner identity in prepare, where the task gets it, and not in every run stage', async () => {
    const prepare = await driver(['custom', 'prepare'], { ...refused, CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz' });
    expect(prepare.code).toBe(2);
    expect(prepare.log).toMatch(/GITLAB_FARGATE_RUNNER_SHORT_TOKEN is not set in gitlab-runner's environment/);
    const run = await driver(['custom', 'run', 'script.sh', 'build_script'], { CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz' });
    expect(run.log).not.toMatch(/GITLAB_FARGATE_RUNNER_SHORT_TOKEN/);
  });

  it('logs nothing about the identity when gitlab-runner provides it', async () => {
    const prepare = await driver(['custom', 'prepare'], { ...refused, GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc123xyz', CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz' });
    expect(prepare.code).toBe(2);
    expect(prepare.log).toMatch(/FARGATE_TASK_DEFINITION: "admin" is not allowed/);
    expect(prepare.log).not.toMatch(/RUNNER_SHORT_TOKEN/);
  });
});

describe('main: custom config with keys this driver does not know', () => {
  it('still answers one JSON line on stdout and names the unknown key on stderr', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'driver-main-'));
    const config = join(cwd, 'driver.toml');
    // An upstream-only or misspelled key must not stop every job (upstream ignores unknown keys).
    writeFileSync(config, '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\nSecurityGroupz = ["sg-1"]\n');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const code = await main({
      argv: ['--config', config, 'custom', 'config'],
      env: { CUSTOM_ENV_CI_JOB_ID: '7' },
      cwd,
      stdout,
      stderr,
      stdoutFd: 1,
      stderrFd: 2,
      signal: new AbortController().signal,
    });
    stdout.end();
    stderr.end();
    const out = String(stdout.read() ?? '');
    const err = String(stderr.read() ?? '');
    expect(code).toBe(0);
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toMatchObject({ builds_dir_is_shared: false });
    expect(err).toMatch(/warning: Fargate\.SecurityGroupz: .*did you mean "SecurityGroup/);
  });
});
