import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../test/cli-process.js';

/** The compiled CLI as a process: exit codes, stdout discipline, help and validation. */
describe('gitlab-fargate-driver (process)', () => {
  let dir: string;
  let good: string;
  let bad: string;
  const env = { BUILD_FAILURE_EXIT_CODE: '11', SYSTEM_FAILURE_EXIT_CODE: '12', CUSTOM_ENV_CI_JOB_ID: '7' };

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'driver-cli-'));
    good = join(dir, 'good.toml');
    writeFileSync(good, '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\n');
    bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[Fargate]\nCluster = "ci"\nTaskDefinition = 5\n\n[SSH]\nPort = 70000\n');
  });

  it('prints its version and help, exit 0', async () => {
    const version = await runCli(['--version'], { env, cwd: dir });
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^gitlab-fargate-driver \d+\.\d+\.\d+\n$/) });
    for (const args of [['--help'], ['custom', '--help'], ['custom', 'run', '--help'], ['validate', '--help'], ['gc', '--help'], ['c', 'cl', '-h']]) {
      const help = await runCli(args, { env, cwd: dir });
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(/^(gitlab-fargate-driver: |Usage: gitlab-fargate-driver)/);
    }
  });

  it('validate: exit 0 for a valid file; exit 1 with every located problem otherwise', async () => {
    expect(await runCli(['validate', good], { env, cwd: dir })).toMatchObject({ code: 0, stdout: `${good}: valid\n` });
    const invalid = await runCli(['--config', bad, 'validate'], { env, cwd: dir });
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toBe(`${bad}: invalid\n`);
    expect(invalid.stderr).toMatch(new RegExp(`${bad}:3:\\d+: error: Fargate.TaskDefinition`));
    expect(invalid.stderr).toMatch(new RegExp(`${bad}:6:\\d+: error: SSH.Port`));
  });

  it('a stage with a bad config is a system failure, with the problems in the job log and nothing on stdout', async () => {
    const run = await runCli(['--config', bad, 'custom', 'config'], { env, cwd: dir });
    expect(run.code).toBe(12);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/invalid driver configuration:\n[\s\S]*bad\.toml:3:\d+: error: Fargate.TaskDefinition/);
  });

  it('a missing config says to pass an absolute --config', async () => {
    const run = await runCli(['custom', 'prepare'], { env, cwd: dir });
    expect(run.code).toBe(12);
    expect(run.stderr).toMatch(/cannot read the driver configuration .*config\.toml: .*pass --config with an absolute path/);
  });

  it('a usage error is a system failure that points at --help', async () => {
    const run = await runCli(['custom', 'run', 'only-one-arg'], { env, cwd: dir });
    expect(run.code).toBe(12);
    expect(run.stderr).toBe('gitlab-fargate-driver: custom run: missing required arguments: SCRIPT STAGE (see --help)\n');
  });

  it('cleanup with no state succeeds without AWS (safe after a failed prepare)', async () => {
    const run = await runCli(['--config', good, 'custom', 'cleanup'], { env, cwd: dir });
    expect(run).toMatchObject({ code: 0, stderr: 'No state for job 7: nothing to clean up\n' });
  });

  it('a refused override fails prepare before any AWS call', async () => {
    const run = await runCli(['--config', good, 'custom', 'prepare'], {
      env: { ...env, CUSTOM_ENV_FARGATE_TASK_DEFINITION: 'admin', AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:1' },
      cwd: dir,
    });
    expect(run.code).toBe(12);
    expect(run.stderr).toMatch(/FARGATE_TASK_DEFINITION: "admin" is not allowed: \[Overrides\] TaskDefinitions is empty/);
    expect(run.stdout).toBe('');
  });

  it('writes structured logs as JSON to --log-file (mode 0600), keeping the job log readable', async () => {
    const logFile = join(dir, 'driver.log');
    const run = await runCli(['--log-format', 'json', '--log-file', logFile, '--debug', '--config', good, 'custom', 'cleanup'], {
      env: { ...env, CUSTOM_ENV_CI_JOB_TOKEN: 'glcbt-64_secret-job-token' },
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('No state for job 7: nothing to clean up\n');
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    const records = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ level: 'debug', msg: 'starting', command: 'cleanup_exec' });
    expect(records.map((r) => r.msg)).toContain('No state for job 7: nothing to clean up');
    expect(readFileSync(logFile, 'utf8')).not.toContain('secret-job-token');
  });
});
