import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred } from '../../deferred.js';
import type { Connection, ExecResult, ExecStreams, TransportTarget } from '../transport.js';
import { MuxUnavailable, multiplexedTransport } from './client.js';
import { CLEANUP_ACCEPT_MS, FrameType, encodeFrame, readFrames } from './protocol.js';
import { type MuxCleanupRunner, type MuxServer, serveMultiplexed } from './server.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** The multiplexer ignores the target: it has its own connection. */
const TARGET: TransportTarget = { host: '127.0.0.1', port: 22, username: 'root', privateKey: '' };
const CHUNKS = 100;

/**
 * A connection whose command writes all its output at once and exits at once: the moment the multiplexer must not
 * answer with the result before that output went out. (The ordering is what is under test, so the remote side is a
 * stand-in; mux.int.test.ts runs the same server against a real sshd.)
 */
const burstConnection: Connection = {
  hostKey: 'AAAA',
  exec: async (_command: string, streams: ExecStreams) => {
    for (let i = 0; i < CHUNKS; i++) streams.stdout.write(CHUNK);
    streams.stderr.write('stderr-tail\n');
    return { exitCode: 0, cancelled: false, lost: false };
  },
  onClose: () => {},
  close: () => {},
};

describe('serveMultiplexed', () => {
  let dir: string;
  let server: MuxServer | undefined;
  afterEach(() => {
    server?.stop('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends every output byte before the result, even to a reader that lags far behind', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mux-server-'));
    const socket = join(dir, 'mux.sock');
    server = await serveMultiplexed(Promise.resolve(burstConnection), socket, { idleTimeoutMs: 60_000, onStop: () => {} });
    let stdoutBytes = 0;
    let stderrText = '';
    const slowStdout = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        stdoutBytes += chunk.length;
        setTimeout(callback, 1);
      },
    });
    const stderr = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        stderrText += chunk.toString();
        callback();
      },
    });
    const connection = await multiplexedTransport(socket).connect(TARGET);
    const result = await connection.exec('bash -s', { stdin: 'true\n', stdout: slowStdout, stderr });
    expect(result).toEqual({ exitCode: 0, cancelled: false, lost: false });
    await finished(slowStdout.end());
    expect(stdoutBytes).toBe(CHUNKS * CHUNK.length);
    expect(stderrText).toBe('stderr-tail\n');
  });

  /** Serves `connecting` on a fresh socket; `stopped` resolves with the reason the server stopped, `stops` has them all. */
  async function serve(connecting: Promise<Connection>): Promise<{ socket: string; stopped: Promise<string>; stops: string[] }> {
    dir = mkdtempSync(join(tmpdir(), 'mux-server-'));
    const socket = join(dir, 'mux.sock');
    const stopped = deferred<string>();
    const stops: string[] = [];
    const onStop = (reason: string): void => {
      stops.push(reason);
      stopped.resolve(reason);
    };
    server = await serveMultiplexed(connecting, socket, { idleTimeoutMs: 60_000, onStop });
    return { socket, stopped: stopped.promise, stops };
  }

  /** Runs `script` through the multiplexer at `socket` as a run stage does; output is dropped. */
  async function runThrough(socket: string, script: string, cancel?: AbortSignal): Promise<ExecResult> {
    const connection = await multiplexedTransport(socket).connect(TARGET);
    return connection.exec('bash -s', { stdin: script, stdout: discard(), stderr: discard(), cancel });
  }

  it('answers every running command "lost" when the SSH connection drops mid-exec, then stops', async () => {
    const task = new StandInTask();
    const { socket, stopped, stops } = await serve(Promise.resolve(task.connection));
    const runs = [1, 2, 3].map((n) => runThrough(socket, `sleep ${n}\n`));
    await task.running(3);
    task.dropConnection();
    // As with a dropped SSH connection of their own: the stage fails, and the script is never run a second time.
    expect(await Promise.all(runs)).toEqual([1, 2, 3].map(() => ({ cancelled: false, lost: true })));
    expect(await stopped).toBe('the SSH connection to the task ended');
    await expect(runThrough(socket, 'true\n')).rejects.toBeInstanceOf(MuxUnavailable);
    server?.stop('stopped again by cleanup');
    expect(stops).toEqual(['the SSH connection to the task ended']);
    expect(task.commands).toEqual(['bash -s', 'bash -s', 'bash -s']);
  });

  it('forwards a cancel to a running command and passes on how the command ended', async () => {
    const task = new StandInTask();
    const { socket } = await serve(Promise.resolve(task.connection));
    const cancel = new AbortController();
    const running = runThrough(socket, 'sleep 300\n', cancel.signal);
    await task.running(1);
    cancel.abort();
    expect(await running).toEqual({ signal: 'TERM', cancelled: true, lost: false });
  });

  it('cancels the command of a stage that goes away mid-command (killed outright), and keeps serving', async () => {
    const task = new StandInTask();
    const { socket } = await serve(Promise.resolve(task.connection));
    const stage = await multiplexedTransport(socket).connect(TARGET);
    const running = stage.exec('bash -s', { stdin: 'sleep 300\n', stdout: discard(), stderr: discard() });
    await task.running(1);
    stage.close(); // what the kernel does to the socket of a process killed with SIGKILL
    await running.catch(() => {});
    await task.cancelledCommands(1);
    const next = runThrough(socket, 'echo next\n');
    await task.running(2);
    task.finishAll();
    expect(await next).toMatchObject({ exitCode: 0 });
  });

  it('lets the running commands finish on a graceful stop, takes no new one, then stops', async () => {
    const task = new StandInTask();
    const { socket, stopped } = await serve(Promise.resolve(task.connection));
    const running = runThrough(socket, 'echo almost done\n');
    await task.running(1);
    server?.stop('cannot connect', { graceful: true });
    await expect(runThrough(socket, 'true\n')).rejects.toBeInstanceOf(MuxUnavailable);
    task.finishAll();
    expect(await running).toEqual({ exitCode: 0, cancelled: false, lost: false });
    expect(await stopped).toBe('cannot connect');
  });

  it('answers "unavailable" to every command when the SSH connection never comes: nothing ran', async () => {
    const connecting = deferred<Connection>();
    const { socket } = await serve(connecting.promise);
    const waiting = [runThrough(socket, 'true\n'), runThrough(socket, 'true\n')];
    connecting.reject(new Error('timed out waiting for the SSH handshake'));
    for (const run of waiting) {
      await expect(run).rejects.toThrow(/multiplexer at .* does not answer: timed out waiting for the SSH handshake/);
      await expect(run).rejects.toBeInstanceOf(MuxUnavailable);
    }
  });

  it('answers a command cancelled while the connection was coming up at once, and never starts it', async () => {
    const connecting = deferred<Connection>();
    const task = new StandInTask();
    const { socket } = await serve(connecting.promise);
    const cancel = new AbortController();
    // Cancelled before it is sent: its Cancel frame still follows its request, while the connection is still coming up.
    cancel.abort();
    const cancelled = runThrough(socket, 'touch /tmp/never\n', cancel.signal);
    expect(await cancelled).toEqual({ cancelled: true, lost: false });
    connecting.resolve(task.connection);
    // A command sent after the cancelled one: had that one started once the connection came, it would run first.
    const later = runThrough(socket, 'echo later\n');
    await task.running(1);
    task.finishAll();
    expect(await later).toMatchObject({ exitCode: 0 });
    expect(task.commands).toHaveLength(1);
    expect(task.scripts).toEqual(['echo later\n']);
  });
});

describe('serveMultiplexed: the native client\'s cleanup', () => {
  let dir: string;
  let server: MuxServer | undefined;
  afterEach(() => {
    server?.stop('test over');
    rmSync(dir, { recursive: true, force: true });
  });
  const REQUEST = JSON.stringify({ argv: ['custom', 'cleanup'], env: { A: 'b' }, cwd: '/tmp' });

  async function serveCleanup(cleanup: MuxCleanupRunner) {
    dir = mkdtempSync(join(tmpdir(), 'mux-cleanup-'));
    const socket = join(dir, 'mux.sock');
    const stopped = deferred<string>();
    let sshClosed = false;
    const closeListeners: (() => void)[] = [];
    // As ssh2's: closing the connection calls its close listeners (the multiplexer's stop, among them).
    const close = (): void => {
      sshClosed = true;
      for (const listener of closeListeners.splice(0)) listener();
    };
    const connection: Connection = { hostKey: 'AAAA', exec: () => new Promise(() => {}), onClose: (listener) => closeListeners.push(listener), close };
    server = await serveMultiplexed(Promise.resolve(connection), socket, { idleTimeoutMs: 60_000, onStop: stopped.resolve, cleanup });
    return { socket, stopped: stopped.promise, sshClosed: () => sshClosed };
  }

  /** Sends one frame and collects every frame answered until the multiplexer closes the connection. */
  function ask(socket: string, type: FrameType, payload: string): Promise<[FrameType, string][]> {
    return new Promise((resolve) => {
      const frames: [FrameType, string][] = [];
      const client = connect(socket, () => client.write(encodeFrame(type, payload)));
      readFrames(client, (frameType, body) => frames.push([frameType, body.toString()]));
      client.on('close', () => resolve(frames));
    });
  }

  it('closes the SSH connection, runs the cleanup, relays its output in order, answers its code, then stops', async () => {
    let sshClosedFirst: boolean | undefined;
    const seen: unknown[] = [];
    const { socket, stopped, sshClosed } = await serveCleanup(async (request, output) => {
      seen.push(request);
      // The driver's cleanup reads its TOML (a file read) before anything else: the connection is closed by then.
      await new Promise(setImmediate);
      sshClosedFirst = sshClosed();
      output.stderr.write('one\n');
      output.stdout.write('two\n');
      output.stderr.write('three\n');
      return 8;
    });
    expect(await ask(socket, FrameType.Cleanup, REQUEST)).toEqual([
      [FrameType.Started, ''],
      [FrameType.Stderr, 'one\n'],
      [FrameType.Stdout, 'two\n'],
      [FrameType.Stderr, 'three\n'],
      [FrameType.Result, '{"exitCode":8}'],
    ]);
    expect(seen).toEqual([JSON.parse(REQUEST)]);
    expect(sshClosedFirst).toBe(true);
    expect(await stopped).toBe('the job is being cleaned up');
  });

  it('finishes a cleanup whose client went away before it stops', async () => {
    const gate = deferred<void>();
    const ended = deferred<void>();
    let stoppedYet = false;
    const { socket, stopped } = await serveCleanup(async () => {
      await gate.promise;
      ended.resolve();
      return 0;
    });
    void stopped.then(() => (stoppedYet = true));
    const client = connect(socket, () => client.write(encodeFrame(FrameType.Cleanup, REQUEST)));
    readFrames(client, (type) => {
      if (type === FrameType.Started) client.destroy();
    });
    await new Promise((resolve) => client.on('close', resolve));
    expect(stoppedYet).toBe(false);
    gate.resolve();
    await ended.promise;
    expect(await stopped).toBe('the job is being cleaned up');
  });

  it('never runs a cleanup its client gave up on (read past CLEANUP_ACCEPT_MS): that client cleans up itself', async () => {
    let runs = 0;
    const { socket } = await serveCleanup(async () => {
      runs += 1;
      return 0;
    });
    const monotonicMs = Number(process.hrtime.bigint() / 1_000_000n);
    const late = JSON.stringify({ ...JSON.parse(REQUEST), sentAtMs: monotonicMs - CLEANUP_ACCEPT_MS - 5_000 });
    expect(await ask(socket, FrameType.Cleanup, late)).toEqual([[FrameType.Unavailable, expect.stringContaining('its client cleans up itself')]]);
    expect(runs).toBe(0);
    const fresh = JSON.stringify({ ...JSON.parse(REQUEST), sentAtMs: monotonicMs });
    expect(await ask(socket, FrameType.Cleanup, fresh)).toEqual([[FrameType.Started, ''], [FrameType.Result, '{"exitCode":0}']]);
    expect(runs).toBe(1);
  });

  it('answers "unavailable" to what is not a cleanup it runs, and keeps serving', async () => {
    let stops = 0;
    const { socket, stopped } = await serveCleanup(() => undefined);
    void stopped.then(() => (stops += 1));
    expect(await ask(socket, FrameType.Cleanup, REQUEST)).toEqual([[FrameType.Unavailable, expect.stringContaining('cannot run the cleanup')]]);
    expect(await ask(socket, FrameType.Cleanup, '{"argv":"custom cleanup"}')).toEqual([[FrameType.Unavailable, expect.stringContaining('cannot run the cleanup')]]);
    expect(stops).toBe(0);
  });
});

/** A writable that drops what it gets. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/**
 * The task's side of the multiplexer's SSH connection, as a stand-in: its commands run until they are cancelled or
 * told to finish, and the connection can be dropped. (mux.int.test.ts runs the server against a real sshd.)
 */
class StandInTask {
  readonly commands: string[] = [];
  readonly scripts: string[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private readonly finishers: (() => void)[] = [];
  private readonly started: { count: number; resolve: () => void }[] = [];
  private readonly cancelWaits: { count: number; resolve: () => void }[] = [];
  private cancelled = 0;

  readonly connection: Connection = {
    hostKey: 'AAAA',
    exec: (command, streams) => this.exec(command, streams),
    onClose: (listener) => this.closeListeners.push(listener),
    close: () => {},
  };

  /** Resolves once `count` commands are running. */
  running(count: number): Promise<void> {
    const wait = deferred<void>();
    this.started.push({ count, resolve: wait.resolve });
    this.check();
    return wait.promise;
  }

  /** Resolves once `count` commands were cancelled. */
  cancelledCommands(count: number): Promise<void> {
    const wait = deferred<void>();
    this.cancelWaits.push({ count, resolve: wait.resolve });
    this.check();
    return wait.promise;
  }

  /** The SSH connection ends: its channels close, then its close listeners run. */
  dropConnection(): void {
    for (const listener of this.closeListeners) listener();
  }

  finishAll(): void {
    for (const finish of this.finishers.splice(0)) finish();
  }

  private exec(command: string, streams: ExecStreams): Promise<ExecResult> {
    this.commands.push(command);
    const result = deferred<ExecResult>();
    const script: Buffer[] = [];
    (streams.stdin as NodeJS.ReadableStream).on('data', (chunk: Buffer) => script.push(chunk));
    (streams.stdin as NodeJS.ReadableStream).on('end', () => this.scripts.push(Buffer.concat(script).toString()));
    this.finishers.push(() => result.resolve({ exitCode: 0, cancelled: false, lost: false }));
    // A cancel (forwarded, or the client went away) ends the command as the forwarded SIGTERM would.
    streams.cancel?.addEventListener(
      'abort',
      () => {
        this.cancelled += 1;
        this.check();
        result.resolve({ signal: 'TERM', cancelled: true, lost: false }); // killed by the forwarded signal
      },
      { once: true },
    );
    this.check();
    return result.promise;
  }

  private check(): void {
    for (const wait of this.started) if (this.commands.length >= wait.count) wait.resolve();
    for (const wait of this.cancelWaits) if (this.cancelled >= wait.count) wait.resolve();
  }
}
