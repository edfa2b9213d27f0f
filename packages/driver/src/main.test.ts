import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Cancelled } from './errors.js';
import { helpText } from './help.js';
import { main } from './main.js';
import { MUX_COMMAND } from './ssh/mux/protocol.js';
import { driverVersion } from './version.js';

const CONFIG = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\n';

/** A working directory with a valid driver.toml (and the job's state, if any, beside it). */
function workDir(config = CONFIG): { cwd: string; config: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'driver-main-'));
  writeFileSync(join(cwd, 'driver.toml'), config);
  return { cwd, config: join(cwd, 'driver.toml') };
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  /** What the driver wrote to its stderr stream, then what went to file descriptor 2 (the log, progress lines). */
  readonly stderr: string;
}

interface InvokeOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  readonly stdin?: string;
}

/** Runs one driver command in-process, as cli.ts would, and collects its exit code and output. */
async function invoke(argv: readonly string[], options: InvokeOptions = {}): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const fdFiles = mkdtempSync(join(tmpdir(), 'driver-main-fd-'));
  const stdoutFd = openSync(join(fdFiles, '1'), 'w');
  const stderrFd = openSync(join(fdFiles, '2'), 'w');
  const stdin = options.stdin === undefined ? {} : { stdin: new PassThrough().end(options.stdin) };
  try {
    const code = await main({
      argv,
      env: { CUSTOM_ENV_CI_JOB_ID: '7', ...options.env },
      cwd: options.cwd ?? workDir().cwd,
      stdout,
      stderr,
      stdoutFd,
      stderrFd,
      signal: options.signal ?? new AbortController().signal,
      ...stdin,
    });
    const written = (stream: PassThrough, fd: string): string => String(stream.end().read() ?? '') + readFileSync(join(fdFiles, fd), 'utf8');
    return { code, stdout: written(stdout, '1'), stderr: written(stderr, '2') };
  } finally {
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
}

/** Runs one driver command in-process, its log in a file; returns the exit code and the log. */
async function driver(args: readonly string[], env: Record<string, string>): Promise<{ code: number; log: string }> {
  const { cwd, config } = workDir();
  const logFile = join(cwd, 'driver.log');
  writeFileSync(join(cwd, 'script.sh'), 'true\n');
  const { code } = await invoke(['--config', config, '--log-file', logFile, ...args], { env, cwd });
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

describe('main: exit codes before any job', () => {
  it('help and version: exit 0, the text on stdout, nothing on stderr', async () => {
    expect(await invoke(['--help'])).toEqual({ code: 0, stdout: helpText('main'), stderr: '' });
    expect(await invoke(['custom', 'run', '--help'])).toEqual({ code: 0, stdout: helpText('run'), stderr: '' });
    expect(await invoke(['--version'])).toEqual({ code: 0, stdout: `gitlab-fargate-driver ${driverVersion()}\n`, stderr: '' });
  });

  it('an unknown verb or option is a system failure that points at --help, before anything is read', async () => {
    // No config file in the working directory: nothing gets that far.
    const cwd = mkdtempSync(join(tmpdir(), 'driver-main-'));
    expect(await invoke(['frobnicate'], { cwd })).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/^gitlab-fargate-driver: unknown command "?frobnicate"?.* \(see --help\)\n$/),
    });
    const option = await invoke(['custom', 'prepare', '--frobnicate'], { cwd, env: { SYSTEM_FAILURE_EXIT_CODE: '12', BUILD_FAILURE_EXIT_CODE: '11' } });
    expect(option).toEqual({ code: 12, stdout: '', stderr: 'gitlab-fargate-driver: unknown option --frobnicate (see --help)\n' });
  });

  it('hands the hidden multiplexer command to the multiplexer, whose exit code is its own', async () => {
    // Started by hand (no spec from prepare) it refuses with 2, not with the runner's code or a usage error.
    const mux = await invoke([MUX_COMMAND], { env: { SYSTEM_FAILURE_EXIT_CODE: '12' } });
    expect(mux).toEqual({ code: 2, stdout: '', stderr: '' });
  });

  it('validate: 0 for a valid file, 1 for an invalid or unreadable one, whatever the runner\'s codes', async () => {
    const { cwd, config } = workDir();
    const env = { SYSTEM_FAILURE_EXIT_CODE: '12', BUILD_FAILURE_EXIT_CODE: '11' };
    expect(await invoke(['validate'], { cwd, env })).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(`^gitlab-fargate-driver: cannot read ${join(cwd, 'config.toml')}: ENOENT`),
    });
    expect(await invoke(['validate', 'driver.toml'], { cwd, env })).toEqual({ code: 0, stdout: `${config}: valid\n`, stderr: '' });
    expect(await invoke(['--config', config, 'validate'], { cwd, env })).toMatchObject({ code: 0, stdout: `${config}: valid\n` });
    writeFileSync(config, '[Fargate]\nCluster = 5\n');
    expect(await invoke(['validate', config], { cwd, env })).toMatchObject({ code: 1, stdout: `${config}: invalid\n` });
  });

  it('report: reads standard input when given no file, 1 when it holds no job metrics', async () => {
    const report = await invoke(['report'], { stdin: 'not a metrics line\n' });
    expect(report).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^gitlab-fargate-driver report: stdin has no "job metrics" records \(1 other lines\)/) });
  });
});

describe('main: exit codes of the stages and gc', () => {
  const runnerCodes = { BUILD_FAILURE_EXIT_CODE: '11', SYSTEM_FAILURE_EXIT_CODE: '12' };
  const refused = { CUSTOM_ENV_FARGATE_TASK_DEFINITION: 'admin' };

  it('a stage that succeeds exits 0', async () => {
    const { cwd, config } = workDir();
    expect(await invoke(['--config', config, 'custom', 'cleanup'], { cwd, env: runnerCodes })).toEqual({
      code: 0,
      stdout: '',
      stderr: 'No state for job 7: nothing to clean up\n',
    });
  });

  it('a failed stage exits with $SYSTEM_FAILURE_EXIT_CODE, else 2, and says why on stderr', async () => {
    const { cwd, config } = workDir();
    const withCodes = await invoke(['--config', config, 'custom', 'prepare'], { cwd, env: { ...runnerCodes, ...refused } });
    expect(withCodes).toMatchObject({ code: 12, stdout: '' });
    expect(withCodes.stderr).toMatch(/^gitlab-fargate-driver: FARGATE_TASK_DEFINITION: "admin" is not allowed/m);
    expect((await invoke(['--config', config, 'custom', 'prepare'], { cwd, env: refused })).code).toBe(2);
  });

  it('an unusable exit-code variable is refused as a system failure with the default code', async () => {
    const { cwd, config } = workDir();
    const run = await invoke(['--config', config, 'custom', 'cleanup'], { cwd, env: { SYSTEM_FAILURE_EXIT_CODE: 'twelve' } });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'gitlab-fargate-driver: SYSTEM_FAILURE_EXIT_CODE must be an exit code between 1 and 255, found "twelve"\n',
    });
  });

  it('a stage whose config cannot be read fails before its log is open, naming the file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'driver-main-'));
    const run = await invoke(['custom', 'config'], { cwd, env: runnerCodes });
    expect(run).toMatchObject({ code: 12, stdout: '' });
    expect(run.stderr).toMatch(`cannot read the driver configuration ${join(cwd, 'config.toml')}: `);
  });

  it('gc fails with 1, not the runner\'s system code', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'driver-main-'));
    const gc = await invoke(['gc', '--dry-run'], { cwd, env: runnerCodes });
    expect(gc).toMatchObject({ code: 1, stdout: '' });
    expect(gc.stderr).toMatch(/cannot read the driver configuration/);
  });

  it('a cancelled prepare exits with the system code and says it was cancelled, before any task starts', async () => {
    const { cwd, config } = workDir();
    const controller = new AbortController();
    controller.abort(new Cancelled('SIGTERM'));
    const run = await invoke(['--config', config, 'custom', 'prepare'], { cwd, env: runnerCodes, signal: controller.signal });
    expect(run.code).toBe(12);
    expect(run.stderr).toMatch(/^gitlab-fargate-driver: cancelled by SIGTERM \(the job was cancelled or timed out\)$/m);
  });
});
