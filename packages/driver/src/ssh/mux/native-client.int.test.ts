import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, runCli, signalOnOutput } from '../../../test/cli-process.js';
import { createMuxTestJob, hostKeyOf, muxSpec, useMultiplexers, writeScript } from '../../../test/mux-fixture.js';
import { buildNativeClient, runNative } from '../../../test/native-client.js';
import { type Sshd, startSshd } from '../../../test/sshd-fixture.js';
import { type JobState, readState, writeState } from '../../job/state.js';
import { generateJobKeyPair } from '../keys.js';
import { FrameType, type MuxSpec, NATIVE_CLIENT_ENV, encodeFrame, readFrames } from './protocol.js';
import type { MuxRecord } from './record.js';
import { muxSocketPath } from './socket.js';

const TOKEN = 'nativetok';
const JOB_ID = '4242';
/** The native client's source, for the AddressSanitizer build. */
const NATIVE_SOURCE = fileURLToPath(new URL('../../../native/run-client.c', import.meta.url));

describe('the native run client (real multiplexer, real sshd)', () => {
  const keys = generateJobKeyPair('native-test');
  const multiplexers = useMultiplexers();
  let client: string;
  let helper: Sshd;
  let build: Sshd;
  let buildHostKey: string;
  let dir: string;
  let config: string;
  let path: string;
  let state: JobState;
  let env: Record<string, string>;

  const start = (overrides: Partial<MuxSpec> = {}): Promise<MuxRecord> => multiplexers.start(muxSpec(path, overrides));
  const script = (name: string, text: string): string => writeScript(dir, name, text);
  const stage = (file: string, name = 'build_script'): string[] => ['--config', config, 'custom', 'run', file, name];
  const inContainer = (sshd: Sshd, command: string): string =>
    execFileSync('docker', ['exec', sshd.container.getId(), 'bash', '-c', command], { encoding: 'utf8' });

  beforeAll(async () => {
    ensureBuilt();
    client = buildNativeClient();
    [helper, build] = await Promise.all([startSshd(keys.publicKey), startSshd(keys.publicKey)]);
    buildHostKey = await hostKeyOf(build, keys.privateKey);
    const job = await createMuxTestJob({ prefix: 'driver-native-', token: TOKEN, jobId: JOB_ID, sshd: helper, keys, exitCodes: { build: 7, system: 8 }, withTask: true });
    ({ dir, config, path, state } = job);
    env = {
      ...job.env,
      [NATIVE_CLIENT_ENV.socket]: muxSocketPath(path),
      // No Node to fall back to: a stage that passes ran in the native client alone.
      [NATIVE_CLIENT_ENV.node]: join(dir, 'no-node'),
      [NATIVE_CLIENT_ENV.driverScript]: CLI,
    };
  });
  beforeEach(() => {
    writeState(path, state);
    rmSync(env.BUILD_EXIT_CODE_FILE!, { force: true });
  });
  afterAll(async () => {
    await Promise.all([helper?.stop(), build?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a stage through the multiplexer with the Node stage exit codes, and records its outcome', async () => {
    await start();
    const ok = await runNative(client, stage(script('ok.sh', 'echo out\necho err >&2\n')), { env, cwd: dir });
    expect(ok).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(readState(path)?.metrics?.outcome).toMatchObject({ kind: 'success', stage: 'build_script' });

    const failed = await runNative(client, stage(script('fail.sh', 'echo failing\nexit 3\n')), { env, cwd: dir });
    expect(failed).toMatchObject({ code: 7, stdout: 'failing\n', stderr: '' });
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe('3\n');
    expect(readState(path)?.metrics?.outcome).toMatchObject({ kind: 'script_failure', stage: 'build_script', exitCode: 3 });

    rmSync(env.BUILD_EXIT_CODE_FILE!);
    const killed = await runNative(client, stage(script('killed.sh', 'kill -KILL $$\n'), 'after_script'), { env, cwd: dir });
    expect(killed.code).toBe(7);
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe('137\n');
  });

  it('fails as a system failure when the connection drops mid-script', async () => {
    await start();
    // The script kills the SSH connection it runs on, as a task that stops would.
    const lost = await runNative(client, stage(script('lost.sh', 'echo before\npkill -KILL -f "sshd: root" \nsleep 30\n')), { env, cwd: dir });
    expect(lost.code).toBe(8);
    expect(lost.stdout).toBe('before\n');
    // The multiplexer's answer names the address; when it ended with the connection before answering, the client says it.
    expect(lost.stderr).toMatch(/^gitlab-fargate-driver: the SSH connection to (127\.0\.0\.1:\d+|the task) ended before the script finished/);
  });

  it('passes a 4 MiB script intact and 8 MiB of output', async () => {
    await start();
    const payload = 'y'.repeat(4 * 1024 * 1024);
    const big = script('big.sh', `cat <<'EOF' | wc -c\n${payload}\nEOF\nhead -c 8388608 /dev/zero | tr '\\0' z\n`);
    const run = await runNative(client, stage(big), { env, cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(`${payload.length + 1}\n`.length + 8 * 1024 * 1024);
    expect(run.stdout.startsWith(`${payload.length + 1}\n`)).toBe(true);
  });

  it('forwards SIGTERM to the script and fails the stage as cancelled', async () => {
    await start();
    const trapping = script('term.sh', "trap 'echo got-term; exit 9' TERM\necho started\nwhile :; do sleep 0.1; done\n");
    const run = await runNative(client, stage(trapping), { env, cwd: dir, onStdout: signalOnOutput('started', 'SIGTERM') });
    expect(run.code).toBe(8);
    expect(run.stdout).toBe('started\ngot-term\n');
    // Last, after what the script's shell said as its process group was killed.
    expect(run.stderr).toMatch(/\ngitlab-fargate-driver: cancelled by SIGTERM \(the job was cancelled or timed out\)\n$|^gitlab-fargate-driver: cancelled by SIGTERM/);
    expect(readState(path)?.metrics?.outcome).toMatchObject({ kind: 'system_failure', stage: 'build_script', reason: 'cancelled' });
  });

  it("runs an image job's user stages in its build container over one more multiplexed connection", async () => {
    writeState(path, { ...state, build: { port: build.port, username: 'root', hostKey: buildHostKey } });
    await start();
    const where = script('where.sh', 'cat /etc/hostname\n');
    const first = await runNative(client, stage(where, 'step_script'), { env, cwd: dir });
    const second = await runNative(client, stage(where, 'after_script'), { env, cwd: dir });
    const helperStage = await runNative(client, stage(where, 'get_sources'), { env, cwd: dir });
    expect([first.code, second.code, helperStage.code]).toEqual([0, 0, 0]);
    expect(first.stdout).toBe(inContainer(build, 'cat /etc/hostname'));
    expect(second.stdout).toBe(first.stdout);
    expect(helperStage.stdout).toBe(inContainer(helper, 'cat /etc/hostname'));
    // sshd forks one child per connection: the multiplexer's one plus the listener, in each container.
    expect(Number(inContainer(build, 'pgrep -c sshd'))).toBe(2);
    expect(Number(inContainer(helper, 'pgrep -c sshd'))).toBe(2);
  });

  it('ends the last stage with the job summary, as the Node stage does', async () => {
    await start();
    const run = await runNative(client, stage(script('last.sh', 'echo last\n'), 'cleanup_file_variables'), { env, cwd: dir });
    expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^last\nFargate task timeline .*\nFargate cost so far/s);
  });

  it("sends the Node stage's user stages of an image job through the multiplexer too", async () => {
    // The multiplexer's own copy of the state; the stage's copy points both containers at a dead port, so the stage
    // can only have run through the multiplexer.
    const muxState = join(dir, 'mux-image-state.json');
    const withBuild = { ...state, build: { port: build.port, username: 'root', hostKey: buildHostKey } };
    writeState(muxState, withBuild);
    const mux = await start({ statePath: muxState });
    writeState(path, { ...withBuild, port: 9, build: { ...withBuild.build, port: 9 }, mux });
    const run = await runCli(stage(script('node-where.sh', 'cat /etc/hostname\n'), 'step_script'), { env, cwd: dir });
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: inContainer(build, 'cat /etc/hostname') });
  });

  describe('falls back to the Node stage, with the same arguments, when nothing ran', () => {
    const nodeEnv = (): Record<string, string> => ({ ...env, [NATIVE_CLIENT_ENV.node]: process.execPath });

    it('when the socket is missing: the Node stage connects on its own', async () => {
      const run = await runNative(client, ['--debug', ...stage(script('own.sh', 'echo own\n'))], {
        env: { ...nodeEnv(), [NATIVE_CLIENT_ENV.socket]: join(dir, 'missing.sock') },
        cwd: dir,
      });
      expect(run).toMatchObject({ code: 0, stdout: 'own\n' });
      expect(run.stderr).toContain('executing the script in the job container');
    });

    it('when the multiplexer answers "unavailable" (it cannot connect)', async () => {
      const silent = await listen(createServer(() => {}));
      try {
        // The multiplexer's own copy of the state: the stage's copy below must not change where it connects.
        const muxState = join(dir, 'mux-state.json');
        writeState(muxState, { ...state, port: (silent.address() as AddressInfo).port });
        const mux = await start({ statePath: muxState, connectTimeoutMs: 1_500 });
        writeState(path, { ...state, mux });
        const run = await runNative(client, ['--debug', ...stage(script('una.sh', 'echo fell-back\n'))], { env: nodeEnv(), cwd: dir });
        expect(run).toMatchObject({ code: 0, stdout: 'fell-back\n' });
        expect(run.stderr).toMatch(/does not answer: .*; connecting on our own/);
      } finally {
        silent.close();
      }
    });

    it('on a frame it does not know before the start; never after it', async () => {
      const fake = await fakeMultiplexer([encodeFrame(99 as FrameType)]);
      const before = await runNative(client, ['--debug', ...stage(script('surprise.sh', 'echo node-ran\n'))], {
        env: { ...nodeEnv(), [NATIVE_CLIENT_ENV.socket]: fake.socket },
        cwd: dir,
      });
      expect(before).toMatchObject({ code: 0, stdout: 'node-ran\n' });
      expect(fake.requests).toEqual([{ stage: 'build_script', configPath: config, forwardSignal: 'TERM', graceMs: 10_000 }]);

      const after = await fakeMultiplexer([encodeFrame(FrameType.Started), encodeFrame(99 as FrameType)]);
      const run = await runNative(client, stage(script('later.sh', 'echo never\n')), { env: { ...nodeEnv(), [NATIVE_CLIENT_ENV.socket]: after.socket }, cwd: dir });
      expect(run.code).toBe(8);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/the SSH connection to the task ended before the script finished/);
    });
  });

  it('writes output frames to fd 1 and 2 in the order they come', async () => {
    const frames = [1, 2, 3, 4, 5, 6].map((n) => encodeFrame(n % 2 === 0 ? FrameType.Stderr : FrameType.Stdout, `${n}\n`));
    const fake = await fakeMultiplexer([encodeFrame(FrameType.Started), ...frames, encodeFrame(FrameType.Result, '{"exitCode":0,"cancelled":false,"lost":false}')]);
    const run = await runNative(client, stage(script('order.sh', 'true\n')), { env: { ...env, [NATIVE_CLIENT_ENV.socket]: fake.socket }, cwd: dir, oneStream: true });
    expect(run).toMatchObject({ code: 0, output: '1\n2\n3\n4\n5\n6\n' });
    expect(fake.stdin).toBe('true\n');
  });

  it('takes an exit code only as an integer 0..255 read within its frame: anything else is a system failure', async () => {
    // Built with AddressSanitizer too (not static, which ASan cannot be): a read past the frame's end aborts that one.
    const asan = join(dir, 'run-client-asan');
    execFileSync('cc', ['-fsanitize=address', '-g', '-O1', '-std=c11', '-Wall', '-Wextra', '-Werror', '-o', asan, NATIVE_SOURCE]);
    // With Started, this Result fills the client's first read buffer (4096 bytes) exactly: its digits end the block.
    const tail = '"exitCode":12345';
    const endsInDigits = `{"message":"${'x'.repeat(4096 - 2 * 5 - 14 - tail.length)}",${tail}`;
    expect(Buffer.byteLength(endsInDigits) + 2 * 5).toBe(4096);
    const answers = ['{"exitCode":4294967296,"cancelled":false,"lost":false}', '{"exitCode":-1}', '{"scriptExitCode":256}', '{"exitCode":1.5}', endsInDigits];
    for (const answer of answers) {
      for (const binary of [client, asan]) {
        const fake = await fakeMultiplexer([encodeFrame(FrameType.Started), encodeFrame(FrameType.Result, answer)]);
        const run = await runNative(binary, stage(script('code.sh', 'true\n')), {
          env: { ...env, [NATIVE_CLIENT_ENV.socket]: fake.socket, ASAN_OPTIONS: 'detect_leaks=0:exitcode=99' },
          cwd: dir,
        });
        expect(run.stderr, `${binary} on ${answer.slice(-40)}`).not.toContain('AddressSanitizer');
        expect(run, `${binary} on ${answer.slice(-40)}`).toMatchObject({ code: 8, stderr: expect.stringContaining("the SSH multiplexer's answer is not what the driver expects") });
      }
    }
  });

  /**
   * A stand-in multiplexer on a socket of `dir`: reads the request and the script, then answers with `frames` and
   * closes. For what the real one never sends (unknown frames) and for exact frame order.
   */
  async function fakeMultiplexer(frames: readonly Buffer[]): Promise<{ socket: string; requests: unknown[]; readonly stdin: string }> {
    const socket = join(dir, `fake-${Math.random().toString(36).slice(2)}.sock`);
    const requests: unknown[] = [];
    let stdin = '';
    const server = createServer((connection: Socket) => {
      readFrames(connection, (type, payload) => {
        if (type === FrameType.Request) requests.push(JSON.parse(payload.toString()));
        if (type === FrameType.Stdin) stdin += payload.toString();
        if (type === FrameType.StdinEnd) connection.end(Buffer.concat(frames));
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    server.unref();
    return {
      socket,
      requests,
      get stdin() {
        return stdin;
      },
    };
  }
});

async function listen(server: Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
