import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, buildBundle, ensureBuilt, runCancelledStage, runCli } from '../../test/cli-process.js';
import { type Sshd, startSshd } from '../../test/sshd-fixture.js';
import { type JobState, statePath, writeState } from '../job/state.js';
import { sshTransport } from '../ssh/connect.js';
import { generateJobKeyPair } from '../ssh/keys.js';
import { NATIVE_CLIENT_ENV } from '../ssh/mux/protocol.js';

const TOKEN = 'abc123xyz';
const JOB_ID = '4242';

describe('custom run (the compiled CLI against a real sshd)', () => {
  const keys = generateJobKeyPair('run-stage-test');
  let sshd: Sshd;
  let dir: string;
  let config: string;
  let state: JobState;
  let env: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    sshd = await startSshd(keys.publicKey);
    const first = await sshTransport.connect({ host: sshd.host, port: sshd.port, username: 'root', privateKey: keys.privateKey });
    first.close();
    dir = mkdtempSync(join(tmpdir(), 'driver-run-'));
    config = join(dir, 'driver.toml');
    writeFileSync(
      config,
      `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\n[TaskMetadata]\nDirectory = "${join(dir, 'state')}"\n`,
    );
    state = {
      version: 1,
      jobId: JOB_ID,
      runnerShortToken: TOKEN,
      cluster: 'ci',
      taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/0123456789abcdef0123456789abcdef',
      address: sshd.host,
      port: sshd.port,
      username: 'root',
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      hostKey: first.hostKey,
      createdAt: new Date().toISOString(),
    };
    writeState(statePath(join(dir, 'state'), TOKEN, JOB_ID), state);
    env = {
      BUILD_FAILURE_EXIT_CODE: '1',
      SYSTEM_FAILURE_EXIT_CODE: '2',
      BUILD_EXIT_CODE_FILE: join(dir, 'build_exit_code'),
      CUSTOM_ENV_CI_JOB_ID: JOB_ID,
      CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: TOKEN,
      TMPDIR: dir,
    };
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function script(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o700 });
    return path;
  }

  it('exits with BUILD_FAILURE_EXIT_CODE and writes the script code to BUILD_EXIT_CODE_FILE', async () => {
    rmSync(env.BUILD_EXIT_CODE_FILE!, { force: true });
    const run = await runCli(['--config', config, 'custom', 'run', script('fail.sh', 'echo hello\necho oops >&2\nexit 3\n'), 'build_script'], { env, cwd: dir });
    expect(run.code).toBe(1);
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe('3\n');
    expect(run.stdout).toBe('hello\n');
    expect(run.stderr).toContain('oops\n');
  });

  it('honours the runner-provided exit codes', async () => {
    const run = await runCli(['--config', config, 'custom', 'run', script('fail5.sh', 'exit 5\n'), 'build_script'], {
      env: { ...env, BUILD_FAILURE_EXIT_CODE: '17' },
      cwd: dir,
    });
    expect(run.code).toBe(17);
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe('5\n');
  });

  it.each([
    ['KILL', 137],
    ['HUP', 129],
  ])('reports a script killed by SIG%s as a build failure with exit code %i (128 + the signal number)', async (signal, code) => {
    rmSync(env.BUILD_EXIT_CODE_FILE!, { force: true });
    // The script's own bash (the remote command itself) dies by the signal: sshd reports an exit signal, not a code.
    const run = await runCli(['--config', config, 'custom', 'run', script(`killed-${signal}.sh`, `echo before\nkill -s ${signal} $$\necho after\n`), 'build_script'], {
      env,
      cwd: dir,
    });
    expect(run).toMatchObject({ code: 1, stdout: 'before\n' });
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe(`${code}\n`);
  });

  it('exits 0 on success, under an alias and an unknown stage name, without touching BUILD_EXIT_CODE_FILE', async () => {
    rmSync(env.BUILD_EXIT_CODE_FILE!, { force: true });
    const run = await runCli(['c', 'r', script('ok.sh', 'echo fine\n'), 'step_some_future_stage', '--config', config], { env, cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('fine\n');
    expect(existsSync(env.BUILD_EXIT_CODE_FILE!)).toBe(false);
  });

  it('forwards SIGTERM to the script and fails the stage as a system failure (never 0)', async () => {
    const path = script('long.sh', "trap 'echo got-term; exit 9' TERM\necho started\nwhile :; do sleep 0.1; done\n");
    const run = await runCancelledStage(config, path, { env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('got-term');
    expect(run.stderr).toMatch(/cancelled by SIGTERM/);
  });

  it('refuses a host key other than the pinned one (system failure)', async () => {
    const other = join(dir, 'other-state');
    writeState(statePath(other, TOKEN, JOB_ID), { ...state, hostKey: 'AAAAC3NzaC1lZDI1NTE5AAAAIJ9d0rWJ0HvC3K1z0yJm8Yl0sY2wYV5x9r0aX3a4bQ7c' });
    const otherConfig = join(dir, 'other.toml');
    writeFileSync(otherConfig, readFileSync(config, 'utf8').replace(join(dir, 'state'), other));
    const run = await runCli(['--config', otherConfig, 'custom', 'run', script('ok2.sh', 'echo never\n'), 'build_script'], { env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/host key .* changed since first contact/);
  });

  it('is a system failure when prepare left no state', async () => {
    const run = await runCli(['--config', config, 'custom', 'run', script('ok3.sh', 'echo never\n'), 'build_script'], {
      env: { ...env, CUSTOM_ENV_CI_JOB_ID: '999' },
      cwd: dir,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no job state .*prepare did not run/);
  });

  it.each(['single', 'split'] as const)('works the same from the %s-file esbuild bundle', async (mode) => {
    const entry = buildBundle(mode);
    rmSync(env.BUILD_EXIT_CODE_FILE!, { force: true });
    const run = await runCli(['--config', config, 'custom', 'run', script('bundle.sh', 'echo from-bundle\nexit 6\n'), 'build_script'], { env, cwd: dir, entry });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('from-bundle\n');
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe('6\n');
    const version = await runCli(['--version'], { env, cwd: dir, entry });
    expect(version.stdout).toMatch(/^gitlab-fargate-driver \d+\.\d+\.\d+/);
  });

  it('the split bundle holds no stale chunk, and each chunk loaded on demand gives the names its importers read', async () => {
    const entry = buildBundle('split');
    const chunks = join(dirname(entry), 'chunks');
    writeFileSync(join(chunks, 'chunk-STALE000.mjs'), 'export {};\n');
    buildBundle('split');
    expect(readdirSync(chunks)).not.toContain('chunk-STALE000.mjs');
    // esbuild turns a dynamic import of a CommonJS package (the AWS SDK) into a module with only a default export:
    // `const { EC2Client } = await import('@aws-sdk/client-ec2')` read undefined in the image's driver.
    const files = [entry, ...readdirSync(chunks).map((name) => join(chunks, name))];
    const targets = new Set(
      files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/import\("(\.\/[^"]+)"\)/g)].map((m) => join(dirname(file), m[1]!))),
    );
    expect(targets.size).toBeGreaterThan(0);
    const defaultOnly: string[] = [];
    for (const target of targets) {
      const names = Object.keys((await import(target)) as object);
      if (names.length === 1 && names[0] === 'default') defaultOnly.push(target);
    }
    expect(defaultOnly).toEqual([]);
  });

  it('custom config prints exactly one JSON object on stdout', async () => {
    const run = await runCli(['--config', config, 'custom', 'config'], { env, cwd: dir });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      driver: { name: 'gitlab-fargate-driver', version: expect.any(String) },
      hostname: expect.stringMatching(/^abc123xyz-[0-9a-f]{16}$/),
      builds_dir_is_shared: false,
      shell: 'bash',
      // For the native run client: where prepare will put the job's multiplexer, and this driver as its fallback.
      job_env: {
        [NATIVE_CLIENT_ENV.socket]: expect.stringMatching(/\/abc123xyz-[0-9a-f]{16}\.sock$/),
        [NATIVE_CLIENT_ENV.node]: process.execPath,
        [NATIVE_CLIENT_ENV.driverScript]: CLI,
      },
    });
  });
});
