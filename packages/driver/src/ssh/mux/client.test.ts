import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deferred } from '../../deferred.js';
import { SystemFailure } from '../../errors.js';
import { DEFAULT_GRACE_MS, KILL_WAIT_MS, STDERR_TAIL_WAIT_MS } from '../exec.js';
import { CANCEL_ANSWER_MARGIN_MS, ClientExchange, MuxUnavailable, multiplexedTransport } from './client.js';
import { FrameType, encodeFrame, frameReader } from './protocol.js';

const SOCKET = '/run/job.sock';
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const exited = (exitCode: number, cancelled = false) => json({ exitCode, cancelled, lost: false });

describe('ClientExchange: how a multiplexed command ends once the socket closes', () => {
  it('ends with the exit status that came before the close', () => {
    const exchange = new ClientExchange(SOCKET);
    exchange.onFrame(FrameType.Started, Buffer.alloc(0));
    exchange.onFrame(FrameType.Result, exited(3));
    expect(exchange.phase).toBe('answered');
    expect(exchange.closed()).toEqual({ result: { exitCode: 3, cancelled: false, lost: false } });
  });

  it('calls a command that started and never answered lost, like a dropped SSH connection', () => {
    const exchange = new ClientExchange(SOCKET);
    exchange.onFrame(FrameType.Started, Buffer.alloc(0));
    expect(exchange.closed()).toEqual({ result: { cancelled: false, lost: true } });
  });

  it('calls a close before the start "unavailable": nothing ran, the stage may connect on its own', () => {
    const outcome = new ClientExchange(SOCKET).closed();
    expect('error' in outcome && outcome.error).toBeInstanceOf(MuxUnavailable);
    expect('error' in outcome && outcome.error.message).toMatch(/closed the connection before starting the command/);
  });

  it('takes the answer of a command cancelled before it started, and marks it cancelled', () => {
    const exchange = new ClientExchange(SOCKET);
    expect(exchange.cancel()).toBe(true);
    expect(exchange.cancel()).toBe(false);
    exchange.onFrame(FrameType.Result, json({ cancelled: false, lost: false }));
    expect(exchange.closed()).toEqual({ result: { cancelled: true, lost: false } });
  });

  it('keeps the first answer: a later frame does not replace it', () => {
    const exchange = new ClientExchange(SOCKET);
    exchange.onFrame(FrameType.Unavailable, json({ message: 'cannot connect: refused' }));
    exchange.onFrame(FrameType.Started, Buffer.alloc(0));
    exchange.onFrame(FrameType.Result, exited(0));
    const outcome = exchange.closed();
    expect('error' in outcome && outcome.error).toBeInstanceOf(MuxUnavailable);
    expect('error' in outcome && outcome.error.message).toMatch(/does not answer: cannot connect: refused/);
  });

  it('fails a command that could not be started with the multiplexer\'s reason', () => {
    const exchange = new ClientExchange(SOCKET);
    exchange.onFrame(FrameType.Error, json({ message: 'cannot start the remote command: channel refused' }));
    const outcome = exchange.closed();
    expect('error' in outcome && outcome.error).toBeInstanceOf(SystemFailure);
    expect('error' in outcome && outcome.error).not.toBeInstanceOf(MuxUnavailable);
  });

  it('fails with the script read error whatever the multiplexer answered', () => {
    const exchange = new ClientExchange(SOCKET);
    exchange.onFrame(FrameType.Started, Buffer.alloc(0));
    exchange.stdinFailed(new Error('EISDIR'));
    exchange.onFrame(FrameType.Result, exited(0));
    const outcome = exchange.closed();
    expect('error' in outcome && outcome.error.message).toBe('cannot read the script: EISDIR');
  });
});

describe('how long a cancelled client waits for the multiplexer', () => {
  it('leaves the multiplexer room for the SIGKILL and the stderr tail after the grace period', () => {
    // Past the grace period the multiplexer may spend KILL_WAIT_MS on the SIGKILL, then STDERR_TAIL_WAIT_MS on stderr's
    // tail, before it answers; a client giving up first calls the outcome lost. 1 s of slack for the hops in between.
    expect(CANCEL_ANSWER_MARGIN_MS).toBeGreaterThanOrEqual(KILL_WAIT_MS + STDERR_TAIL_WAIT_MS + 1_000);
  });

  it('uses the same grace period and margin as the native client', () => {
    const source = readFileSync(new URL('../../../native/run-client.c', import.meta.url), 'utf8');
    expect(source).toMatch(new RegExp(`^#define GRACE_MS ${DEFAULT_GRACE_MS}$`, 'm'));
    expect(source).toMatch(new RegExp(`^#define CANCEL_ANSWER_MARGIN_MS ${CANCEL_ANSWER_MARGIN_MS}$`, 'm'));
  });
});

describe('a multiplexed client against a multiplexer that speaks the protocol', () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** A multiplexer stand-in: `answer` sees the request (and `onCancel` a cancel) and answers on the socket as it likes. */
  async function fakeMultiplexer(answer: (socket: Socket) => void, onCancel?: () => void): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), 'mux-client-'));
    const path = join(dir, 'mux.sock');
    server = createServer((socket) => {
      const read = frameReader((type) => {
        if (type === FrameType.StdinEnd) answer(socket);
        if (type === FrameType.Cancel) onCancel?.();
      });
      socket.on('data', read);
    });
    await new Promise<void>((resolve) => server?.listen(path, resolve));
    return path;
  }

  it('gets its exit status before its output ends and the socket closes: keeps the status and every byte', async () => {
    const path = await fakeMultiplexer((socket) => {
      socket.write(encodeFrame(FrameType.Started));
      socket.write(encodeFrame(FrameType.Stdout, 'first\n'));
      socket.write(encodeFrame(FrameType.Result, exited(7)));
      socket.end(encodeFrame(FrameType.Stdout, 'late\n'));
    });
    const connection = await multiplexedTransport(path).connect({ host: '127.0.0.1', port: 22, username: 'root', privateKey: '' });
    const stdout = new PassThrough();
    const result = await connection.exec('bash -s', { stdin: 'exit 7\n', stdout, stderr: new PassThrough() });
    expect(result).toEqual({ exitCode: 7, cancelled: false, lost: false });
    expect(stdout.read()?.toString()).toBe('first\nlate\n');
  });

  it('gives up on a multiplexer that does not answer a cancel in time, and says so on stderr', async () => {
    const cancelSeen = deferred<void>();
    const path = await fakeMultiplexer((socket) => {
      // Dropped by the client's give-up; the reset is not this test's business.
      socket.on('error', () => {});
      socket.write(encodeFrame(FrameType.Started));
      socket.write(encodeFrame(FrameType.Stdout, 'running\n'));
    }, cancelSeen.resolve);
    const connection = await multiplexedTransport(path).connect({ host: '127.0.0.1', port: 22, username: 'root', privateKey: '' });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const cancel = new AbortController();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const result = connection.exec('bash -s', { stdin: 'sleep 300\n', stdout, stderr, cancel: cancel.signal, graceMs: 1_000 });
      // The output comes after Started: the client knows the command started.
      await new Promise((resolve) => stdout.once('data', resolve));
      cancel.abort();
      await cancelSeen.promise;
      vi.advanceTimersByTime(1_000 + CANCEL_ANSWER_MARGIN_MS);
      expect(await result).toEqual({ cancelled: true, lost: true });
      expect(stderr.read()?.toString()).toBe(
        `gitlab-fargate-driver: the job's SSH multiplexer did not answer within ${(1_000 + CANCEL_ANSWER_MARGIN_MS) / 1000} s of the cancel: giving up on it\n`,
      );
    } finally {
      vi.useRealTimers();
    }
  });
});
