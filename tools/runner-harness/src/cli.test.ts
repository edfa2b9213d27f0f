import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { localRunnerConfigToml } from './fixtures/local-runner-config.js';
import { stripAnsi } from './job-log.js';

// The compiled CLI, as users run it (Nx builds the package before its tests).
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'harness-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configPath = join(dir, 'config.toml');
writeFileSync(configPath, localRunnerConfigToml());

function harness(args: string[], jobYaml?: string, env: Record<string, string> = {}) {
  const driverRoot = mkdtempSync(join(dir, 'driver-'));
  const jobPath = join(dir, `job-${Math.random().toString(16).slice(2)}.yml`);
  if (jobYaml !== undefined) writeFileSync(jobPath, jobYaml);
  const result = spawnSync(process.execPath, [cli, ...args.map((a) => a.replace('JOB', jobPath))], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LOCAL_DRIVER_ROOT: driverRoot, ...env },
  });
  return { status: result.status, stdout: stripAnsi(result.stdout), stderr: result.stderr, driverRoot };
}

describe('gitlab-fargate-runner-harness', () => {
  it('runs a passing job and exits 0', () => {
    const resultPath = join(dir, 'result.json');
    const run = harness(['run', '--config', configPath, '--job', 'JOB', '--job-id', '77', '--var', 'WHO=world', '--result-json', resultPath],
      'script:\n  - echo "hello $WHO from job $CI_JOB_ID"\n');
    expect(run.status).toBe(0);
    // Cleanup output goes to the runner's own log, as gitlab-runner does, not to the job log.
    expect(run.stderr).toBe('cleanup_std=out cleaned up\n');
    expect(run.stdout).toContain('hello world from job 77\n');
    expect(JSON.parse(readFileSync(resultPath, 'utf8'))).toMatchObject({ outcome: 'success', jobId: 77, prepareAttempts: 1 });
  });

  it('exits 1 for a script failure and names the exit code', () => {
    const run = harness(['run', '--config', configPath, '--job', 'JOB'], 'script: [exit 42]\n');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/ERROR: Job failed: exit code 42\n$/);
  });

  it('refuses an invalid job file with exit 3 before calling the driver', () => {
    const run = harness(['run', '--config', configPath, '--job', 'JOB'], 'script: []\ntimeout: later\n');
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/^gitlab-fargate-runner-harness: invalid job:\n {2}.*job-\w+\.yml:1:9: "script" is empty/);
    expect(run.stderr).toMatch(/job-\w+\.yml:2:10: "timeout" must be a duration/);
    expect(existsSync(join(run.driverRoot, 'calls.log'))).toBe(false);
  });

  it('refuses an unknown runner name and a missing flag with exit 3', () => {
    // A valid job (the command is the string "true"), so the runner name is the only problem.
    const unknown = harness(['run', '--config', configPath, '--job', 'JOB', '--runner', 'nope'], 'script: ["true"]\n');
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toBe('gitlab-fargate-runner-harness: ' +
      `${configPath}: no [[runners]] entry is named "nope" (the file has "local")\n`);
    const missing = harness(['run', '--job', 'JOB'], 'script: ["true"]\n');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('--config FILE is required');
  });

  it('reports a bad runner name and a bad job file together, the runner config first, on every run', () => {
    // `script: [true]` is a YAML boolean, not a command: GitLab refuses it too. Both inputs are wrong, and
    // whichever file is read first, both problems are reported, always in the same order.
    for (let run = 0; run < 5; run += 1) {
      const both = harness(['run', '--config', configPath, '--job', 'JOB', '--runner', 'nope'], 'script: [true]\n');
      expect(both.status).toBe(3);
      const lines = both.stderr.split('\n');
      expect(lines[0]).toBe(`gitlab-fargate-runner-harness: ${configPath}: no [[runners]] entry is named "nope" (the file has "local")`);
      expect(lines[1]).toBe('gitlab-fargate-runner-harness: invalid job:');
      expect(lines[2]).toMatch(/job-\w+\.yml:1:10: script\[0\] must be a command string \(found boolean true\)$/);
      expect(existsSync(join(both.driverRoot, 'calls.log'))).toBe(false);
    }
  });

  it('takes the prepare timeout and the script shape, and refuses bad ones before calling the driver', () => {
    const ok = harness(['run', '--config', configPath, '--job', 'JOB', '--prepare-timeout', '5m', '--script-shape', '19.0'], 'script: ["true"]\n');
    expect(ok.status).toBe(0);
    expect(readFileSync(join(ok.driverRoot, 'scripts', 'build_script'), 'utf8')).toContain(': | eval ');
    const badTimeout = harness(['run', '--config', configPath, '--job', 'JOB', '--prepare-timeout', 'soon'], 'script: ["true"]\n');
    expect(badTimeout.status).toBe(3);
    expect(badTimeout.stderr).toContain('--prepare-timeout must be a duration such as 90 or 5m (got "soon")');
    const badShape = harness(['run', '--config', configPath, '--job', 'JOB', '--script-shape', '18'], 'script: ["true"]\n');
    expect(badShape.status).toBe(3);
    expect(badShape.stderr).toContain('--script-shape must be 19.1 or 19.0 (got "18")');
    expect(existsSync(join(badShape.driverRoot, 'calls.log'))).toBe(false);
  });

  it("bounds prepare by config.toml's prepare_timeout, and refuses a prepare_timeout Go cannot read", () => {
    const withTimeout = join(dir, 'config-prepare-timeout.toml');
    writeFileSync(withTimeout, localRunnerConfigToml().replace('executor = "custom"', 'executor = "custom"\n  prepare_timeout = "2s"'));
    const run = harness(['run', '--config', withTimeout, '--job', 'JOB'], 'script: ["true"]\n', { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/ERROR: Job failed: prepare timeout: exceeded timeout of 0m2s\n$/);
    const bad = join(dir, 'config-bad-prepare-timeout.toml');
    writeFileSync(bad, localRunnerConfigToml().replace('executor = "custom"', 'executor = "custom"\n  prepare_timeout = 300'));
    const refused = harness(['run', '--config', bad, '--job', 'JOB'], 'script: ["true"]\n');
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('runners[0].prepare_timeout: expected a Go duration string like "5m" or "1h30m", found 300 (an integer)');
    expect(existsSync(join(refused.driverRoot, 'calls.log'))).toBe(false);
  });

  it('prints help', () => {
    const run = harness(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: gitlab-fargate-runner-harness run --config FILE --job FILE');
  });
});
