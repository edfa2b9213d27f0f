import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, runCli } from '../../../test/cli-process.js';
import { createMuxTestJob, muxSpec, useMultiplexers } from '../../../test/mux-fixture.js';
import { buildNativeClient, runNative } from '../../../test/native-client.js';
import { type Sshd, startSshd } from '../../../test/sshd-fixture.js';
import { type JobState, writeState } from '../../job/state.js';
import { generateJobKeyPair } from '../keys.js';
import { multiplexedTransport } from './client.js';
import { FrameType, type MuxCleanupRequest, NATIVE_CLIENT_ENV, encodeFrame, readFrames } from './protocol.js';
import type { MuxRecord } from './record.js';
import { muxSocketPath } from './socket.js';

const TOKEN = 'cleantok';
const JOB_ID = '5151';
const NOTHING_TO_STOP = 'Prepare never started a task: nothing to stop';

/**
 * The native client as `cleanup_exec`: the job's multiplexer runs the driver's own cleanup and stops; whenever it
 * does not answer (gone, killed after it started, a frame nobody sends), the client becomes the Node cleanup. The
 * job states here name no task, so no AWS call is made (the emulator tests in tools/e2e stop real tasks).
 */
describe('the native client as cleanup_exec (real multiplexer, real sshd)', () => {
  const keys = generateJobKeyPair('native-cleanup-test');
  const multiplexers = useMultiplexers();
  let client: string;
  let sshd: Sshd;
  let dir: string;
  let config: string;
  let path: string;
  let state: JobState;
  let env: Record<string, string>;
  const cleanupArgs = (): string[] => ['--config', config, 'custom', 'cleanup'];
  /** With a working Node driver to fall back to; `env` has none, so a cleanup that passes there ran in the multiplexer. */
  const nodeEnv = (): Record<string, string> => ({ ...env, [NATIVE_CLIENT_ENV.node]: process.execPath });

  const start = async (): Promise<MuxRecord> => {
    const record = await multiplexers.start(muxSpec(path));
    writeState(path, { ...state, mux: record });
    // Connected once a command ran: it read the state by then, which a test may then damage.
    const target = { host: sshd.host, port: sshd.port, username: 'root', privateKey: keys.privateKey };
    const viaMux = await multiplexedTransport(record.socket).connect(target);
    const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
    await viaMux.exec('true', { stdin: '', stdout: discard(), stderr: discard() });
    viaMux.close();
    return record;
  };

  beforeAll(async () => {
    ensureBuilt();
    client = buildNativeClient();
    sshd = await startSshd(keys.publicKey);
    const job = await createMuxTestJob({ prefix: 'driver-native-cleanup-', token: TOKEN, jobId: JOB_ID, sshd, keys, exitCodes: { build: 7, system: 8 }, withTask: false });
    ({ dir, config, path, state } = job);
    env = {
      ...job.env,
      // Without gitlab-fargate-driver (the client's last fallback), which vitest's PATH has.
      PATH: '/usr/bin:/bin',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      [NATIVE_CLIENT_ENV.socket]: muxSocketPath(path),
      [NATIVE_CLIENT_ENV.node]: join(dir, 'no-node'),
      [NATIVE_CLIENT_ENV.driverScript]: CLI,
    };
  });
  beforeEach(() => writeState(path, state));
  afterAll(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the cleanup in the multiplexer, which removes the state and exits; no Node process is started', async () => {
    const mux = await start();
    const run = await runNative(client, cleanupArgs(), { env, cwd: dir });
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toContain(NOTHING_TO_STOP);
    expect(existsSync(path)).toBe(false);
    await processGone(mux.pid);
    expect(existsSync(mux.socket)).toBe(false);
  });

  it('fails as the Node cleanup does: same exit code, same words (a damaged state file)', async () => {
    await start();
    writeFileSync(path, '{"version":', { mode: 0o600 });
    const native = await runNative(client, cleanupArgs(), { env, cwd: dir });
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '{"version":', { mode: 0o600 });
    const node = await runCli(cleanupArgs(), { env, cwd: dir });
    const timeless = (text: string): string => text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME');
    expect(native.code).toBe(8);
    const nodeOutcome = { code: node.code, stdout: node.stdout, stderr: timeless(node.stderr) };
    expect({ ...native, stderr: timeless(native.stderr) }).toMatchObject(nodeOutcome);
    expect(native.stderr).toMatch(/^gitlab-fargate-driver: the job state file .* removed it/m);
  });

  it('runs the Node cleanup when the multiplexer was killed before the cleanup', async () => {
    const mux = await start();
    process.kill(mux.pid, 'SIGKILL');
    await processGone(mux.pid);
    const run = await runNative(client, cleanupArgs(), { env: nodeEnv(), cwd: dir });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stderr).toContain(NOTHING_TO_STOP);
    expect(existsSync(path)).toBe(false);
  });

  it('runs the Node cleanup when the multiplexer ends after it started, and says so', async () => {
    const fake = await fakeMultiplexer([encodeFrame(FrameType.Started), encodeFrame(FrameType.Stderr, 'half\n')]);
    const run = await runNative(client, cleanupArgs(), { env: { ...nodeEnv(), [NATIVE_CLIENT_ENV.socket]: fake.socket }, cwd: dir });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stderr).toMatch(/^half\ngitlab-fargate-driver: the SSH multiplexer did not finish the cleanup: cleaning up with the Node driver\n/);
    expect(run.stderr).toContain(NOTHING_TO_STOP);
    expect(existsSync(path)).toBe(false);
    // What the multiplexer was asked to run: this very invocation.
    const sentEnv = expect.objectContaining({ ...nodeEnv(), [NATIVE_CLIENT_ENV.socket]: fake.socket }) as unknown;
    expect(fake.requests).toEqual([{ argv: cleanupArgs(), env: sentEnv, cwd: dir, sentAtMs: expect.any(Number) }]);
  });

  it('runs the Node cleanup on a frame it does not know before the start', async () => {
    const fake = await fakeMultiplexer([encodeFrame(99 as FrameType)]);
    const run = await runNative(client, cleanupArgs(), { env: { ...nodeEnv(), [NATIVE_CLIENT_ENV.socket]: fake.socket }, cwd: dir });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stderr.startsWith(`${NOTHING_TO_STOP}\n`)).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it("exits with the Result's code, relays the output in order, and is not cancelled by SIGTERM", async () => {
    const fake = await fakeMultiplexer([encodeFrame(FrameType.Started), encodeFrame(FrameType.Stdout, 'working\n')], [
      encodeFrame(FrameType.Stderr, 'done\n'),
      encodeFrame(FrameType.Result, '{"exitCode":8}'),
    ]);
    const run = await runNative(client, cleanupArgs(), {
      env: { ...env, [NATIVE_CLIENT_ENV.socket]: fake.socket },
      cwd: dir,
      onStdout: (text, child) => {
        if (!text.includes('working') || fake.finished()) return;
        child.kill('SIGTERM');
        fake.finish();
      },
    });
    expect(run).toMatchObject({ code: 8, stdout: 'working\n', stderr: 'done\n' });
    expect(fake.frameTypes).toEqual([FrameType.Cleanup]); // no Cancel
  });

  /**
   * A stand-in multiplexer: answers a cleanup request with `frames`, then, unless `later` is given, closes; with
   * `later`, sends those and closes when told ({@link finish}).
   */
  async function fakeMultiplexer(frames: readonly Buffer[], later?: readonly Buffer[]) {
    const socket = join(dir, `fake-${Math.random().toString(36).slice(2)}.sock`);
    const requests: MuxCleanupRequest[] = [];
    const frameTypes: FrameType[] = [];
    let connection: Socket | undefined;
    let done = false;
    const server: Server = createServer((accepted: Socket) => {
      connection = accepted;
      readFrames(accepted, (type, payload) => {
        frameTypes.push(type);
        if (type !== FrameType.Cleanup) return;
        requests.push(JSON.parse(payload.toString()) as MuxCleanupRequest);
        if (later === undefined) accepted.end(Buffer.concat(frames));
        else accepted.write(Buffer.concat(frames));
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    server.unref();
    return {
      socket, requests, frameTypes,
      finished: () => done,
      finish: () => {
        done = true;
        connection?.end(Buffer.concat(later ?? []));
      },
    };
  }
});

/** Resolves once `pid` is gone (or a zombie): an observable event, polled. */
async function processGone(pid: number): Promise<void> {
  for (;;) {
    try {
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) return;
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
