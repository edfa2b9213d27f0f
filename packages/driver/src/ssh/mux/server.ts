import { type Server, type Socket, createServer } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { deferred } from '../../deferred.js';
import { messageOf } from '../../errors.js';
import type { Connection, ExecResult } from '../transport.js';
import { CLEANUP_ACCEPT_MS, FrameType, type MuxCleanupRequest, type MuxCleanupResult, type MuxRequest, type StageVerdict, encodeFrame, readFrames } from './protocol.js';

/** Options of {@link serveMultiplexed}. */
export interface MuxServerOptions {
  /** Stop serving after this long without a command running. */
  readonly idleTimeoutMs: number;
  /** Called once when the server stops, with why. */
  readonly onStop: (reason: string) => void;
  /**
   * Where each request runs (stage requests: `stages/run-route.ts`).
   * @default the request's `command` on the helper's connection
   */
  readonly route?: MuxRouter;
  /**
   * Runs a cleanup request (the job's `custom cleanup`, `stages/cleanup-route.ts`) with the client's output, and
   * resolves with its exit code. The multiplexer stops serving before it runs (its SSH connection ends first, as when
   * the Node cleanup stops it) and stops once it answered.
   * @default none: cleanup requests are answered "unavailable"
   */
  readonly cleanup?: MuxCleanupRunner;
}

/** Where a cleanup request's output goes: the client's stdout and stderr, frame by frame, in the order written. */
export interface MuxOutput {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * Starts a cleanup request; resolves with the exit code the driver's cleanup returned. `undefined` when the request
 * is not a cleanup it runs (nothing ran): its output may only begin after it returned.
 */
export type MuxCleanupRunner = (request: MuxCleanupRequest, output: MuxOutput) => Promise<number> | undefined;

/** What a client session may ask of its multiplexer. */
interface SessionHandlers {
  readonly route: MuxRouter;
  /** Starts a cleanup request; `undefined` when it cannot (none configured, or the multiplexer is stopping). */
  readonly cleanup: (request: MuxCleanupRequest, output: MuxOutput) => Promise<number> | undefined;
}

/** Where and how one request runs, and what happens at its end. */
export interface MuxRoute {
  readonly connection: Connection;
  readonly command: string;
  /**
   * Called with the command's end (its result, or why it could not start) before the last frame goes out; what it
   * returns is added to the Result.
   */
  readonly settle?: (end: ExecResult | Error) => StageVerdict | undefined;
  /** Text for the client's stdout after the command's output and before its Result (the job summary). */
  readonly epilogue?: (result: ExecResult) => Promise<string>;
}

/**
 * Resolves a request into its route, given the helper's connection (still coming up, maybe). A rejection means
 * nothing ran: the client hears "unavailable" and connects on its own.
 */
export type MuxRouter = (request: MuxRequest, helper: Promise<Connection>) => Promise<MuxRoute>;

/** The default {@link MuxRouter}: the request's command, on the helper's connection. */
const commandRoute: MuxRouter = async (request, helper) => ({ connection: await helper, command: request.command ?? '' });

/** A running multiplexer. */
export interface MuxServer {
  /**
   * Stops accepting commands and ends the SSH connection. The running commands end at once, or, when `graceful`,
   * may finish first (for answers already on their way, such as "unavailable"); a later plain stop ends them anyway.
   */
  stop(reason: string, options?: { readonly graceful?: boolean }): void;
}

/**
 * Serves one SSH connection to the `run` stages of its job over a Unix socket, as OpenSSH's ControlMaster does: a
 * stage then costs one channel instead of a TCP connect, key exchange and authentication. Each client connection
 * carries one command (see protocol.ts); a client that goes away cancels its command. The socket listens before
 * the connection is up: commands wait for it, and are answered "unavailable" (nothing ran) if it never comes. Stops
 * when the SSH connection ends (the task stopped), after `idleTimeoutMs` without a command, or when told to.
 *
 * @returns once the socket listens
 */
export async function serveMultiplexed(
  connecting: Promise<Connection>,
  socketPath: string,
  options: MuxServerOptions,
): Promise<MuxServer> {
  connecting.catch(() => {}); // Each client hears about a failure; it is never unhandled.
  const multiplexer = new Multiplexer(connecting, options);
  connecting.then((connection) => connection.onClose(() => multiplexer.stop('the SSH connection to the task ended')), () => {});
  await multiplexer.listen(socketPath);
  return { stop: (reason, how) => multiplexer.stop(reason, how) };
}

/**
 * Where the multiplexer stands: `serving` accepts commands; `draining` (a graceful stop) accepts none and waits for
 * the answers still on their way; `stopped` has ended every client connection and told its owner.
 */
type MultiplexerPhase = 'serving' | 'draining' | 'stopped';

/** The server side: its clients, its idle timer, and how it stops. */
class Multiplexer {
  private phase: MultiplexerPhase = 'serving';
  private stopReason = '';
  private readonly active = new Set<Socket>();
  /** The client of the cleanup this multiplexer runs: its answer outlives any stop (it needs no SSH connection). */
  private readonly cleaning = new Set<Socket>();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly server: Server = createServer((socket) => this.accept(socket));

  constructor(
    private readonly connecting: Promise<Connection>,
    private readonly options: MuxServerOptions,
  ) {}

  /** Listens on `socketPath`; later socket failures stop the multiplexer. */
  async listen(socketPath: string): Promise<void> {
    const { server } = this;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Accepting can still fail later (out of file descriptors): stop cleanly rather than crash.
    server.on('error', (error) => this.stop(`the socket failed: ${messageOf(error)}`));
    this.armIdleTimer();
  }

  stop(reason: string, how: { readonly graceful?: boolean } = {}): void {
    if (this.phase === 'serving') {
      this.stopReason = reason;
      if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
      this.server.close();
      this.connecting.then((connection) => connection.close(), () => {});
      this.phase = 'draining';
    }
    if (this.active.size === 0) return this.end();
    if (how.graceful || this.phase === 'stopped') return;
    if (this.cleaning.size === 0) return this.end();
    // A cleanup runs: every other command ends now; the stop is told once the cleanup answered (its session ends).
    for (const socket of this.active) if (!this.cleaning.has(socket)) socket.destroy();
  }

  private accept(socket: Socket): void {
    this.active.add(socket);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const cleanup: SessionHandlers['cleanup'] = (request, output) => this.cleanup(socket, request, output);
    const handlers: SessionHandlers = { route: this.options.route ?? commandRoute, cleanup };
    void new ClientSession(this.connecting, handlers, socket).served.then(() => {
      this.active.delete(socket);
      this.cleaning.delete(socket);
      if (this.phase === 'draining' && this.active.size === 0) this.end();
      this.armIdleTimer();
    });
  }

  /** Cleanup ends the job: no command after it, and the SSH connection ends first, as the Node cleanup's stop did. */
  private cleanup(socket: Socket, request: MuxCleanupRequest, output: MuxOutput): Promise<number> | undefined {
    const run = this.options.cleanup;
    if (run === undefined || this.phase !== 'serving') return undefined;
    const running = run(request, output);
    if (running === undefined) return undefined;
    // Closing the SSH connection stops this multiplexer again, at once: that must not cut the cleanup's answer off.
    this.cleaning.add(socket);
    this.stop('the job is being cleaned up', { graceful: true });
    return running;
  }

  private end(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    for (const socket of this.active) if (!this.cleaning.has(socket)) socket.destroy();
    this.options.onStop(this.stopReason);
  }

  private armIdleTimer(): void {
    if (this.phase !== 'serving' || this.active.size > 0) return;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const { idleTimeoutMs } = this.options;
    this.idleTimer = setTimeout(() => this.stop(`no command for ${Math.round(idleTimeoutMs / 1000)} s`), idleTimeoutMs);
    this.idleTimer.unref();
  }
}

/**
 * Where one client's command stands on the server:
 * - `awaiting-request`: connected, nothing asked yet;
 * - `awaiting-connection`: asked, waiting for the SSH connection (a cancel now is answered "not started" at once);
 * - `running`: started on the SSH connection;
 * - `finished`: the last frame is sent (or the client is gone); nothing more happens.
 */
type SessionPhase = 'awaiting-request' | 'awaiting-connection' | 'running' | 'finished';

/** The answer to a command that was never started. */
const NOT_STARTED = JSON.stringify({ cancelled: true, lost: false });

/** One client connection: one command, from its request to its last frame. */
class ClientSession {
  /** Resolved once the client is done with (never rejected): its answer went out, or it went away and its command ended. */
  readonly served: Promise<void>;
  private readonly done: () => void;
  private phase: SessionPhase = 'awaiting-request';
  // The script is buffered here rather than holding the client back: the client's socket must stay readable for
  // a cancel, or its close, at any time. Scripts are files of bounded size.
  private readonly stdin = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly cancel = new AbortController();

  constructor(
    private readonly connecting: Promise<Connection>,
    private readonly handlers: SessionHandlers,
    private readonly socket: Socket,
  ) {
    const served = deferred<void>();
    this.served = served.promise;
    this.done = () => served.resolve();
    readFrames(socket, (type, payload) => this.onFrame(type, payload));
    socket.once('close', () => this.onClose());
  }

  private onFrame(type: FrameType, payload: Buffer): void {
    if (this.phase === 'finished') return;
    if (type === FrameType.Request && this.phase === 'awaiting-request') {
      this.onRequest(payload);
    } else if (type === FrameType.Cleanup && this.phase === 'awaiting-request') {
      this.onCleanup(payload);
    } else if (type === FrameType.Stdin) {
      this.stdin.write(payload);
    } else if (type === FrameType.StdinEnd) {
      this.stdin.end();
    } else if (type === FrameType.Cancel) {
      this.cancel.abort();
      // Not started yet (the connection is still coming up): answer now, and never start it.
      if (this.phase === 'awaiting-connection') this.finish(FrameType.Result, NOT_STARTED);
    }
  }

  private onRequest(payload: Buffer): void {
    this.phase = 'awaiting-connection';
    let request: MuxRequest;
    try {
      request = JSON.parse(payload.toString('utf8')) as MuxRequest;
    } catch {
      return this.finish(FrameType.Unavailable, JSON.stringify({ message: 'the request is not JSON' }));
    }
    this.handlers.route(request, this.connecting).then(
      (route) => this.execute(route, request),
      (error: unknown) => this.finish(FrameType.Unavailable, JSON.stringify({ message: messageOf(error) })),
    );
  }

  /**
   * Runs the job's cleanup here. It is never cancelled: a client that goes away (killed by its runner) does not stop
   * it, and the client runs the Node cleanup itself when the connection ends before the Result (cleanup is idempotent).
   */
  private onCleanup(payload: Buffer): void {
    const request = parseCleanupRequest(payload);
    // A client that gave up waiting for Started cleans up itself: the cleanup must not run twice at once.
    const lateMs = request?.sentAtMs === undefined ? 0 : monotonicMs() - request.sentAtMs;
    if (this.socket.destroyed || lateMs > CLEANUP_ACCEPT_MS) {
      const message = `the cleanup request was read ${lateMs} ms after it was sent: its client cleans up itself`;
      return this.finish(FrameType.Unavailable, JSON.stringify({ message }));
    }
    const output: MuxOutput = { stdout: this.immediateOutput(FrameType.Stdout), stderr: this.immediateOutput(FrameType.Stderr) };
    // Started goes out before anything the cleanup writes; the run only begins on a later tick (it is async).
    const running = request === undefined ? undefined : this.handlers.cleanup(request, output);
    if (running === undefined) {
      const message = 'this multiplexer cannot run the cleanup (malformed request, or stopping)';
      return this.finish(FrameType.Unavailable, JSON.stringify({ message }));
    }
    this.phase = 'running';
    this.send(FrameType.Started);
    running.then(
      (exitCode) => this.finish(FrameType.Result, JSON.stringify({ exitCode } satisfies MuxCleanupResult)),
      (error: unknown) => this.finish(FrameType.Error, JSON.stringify({ message: messageOf(error) })),
    );
  }

  private execute({ connection, command, settle, epilogue }: MuxRoute, request: MuxRequest): void {
    if (this.phase === 'finished') return; // cancelled while the connection was still coming up
    if (this.socket.destroyed || this.cancel.signal.aborted) return this.finish(FrameType.Result, NOT_STARTED);
    this.phase = 'running';
    this.send(FrameType.Started);
    const stdout = this.toClient(FrameType.Stdout);
    const stderr = this.toClient(FrameType.Stderr);
    const { forwardSignal, graceMs } = request;
    connection.exec(command, { stdin: this.stdin, stdout, stderr, cancel: this.cancel.signal, forwardSignal, graceMs }).then(
      async (result: ExecResult) => {
        // Settled before the answer: the stage's client exits on it, and the next stage may read what was recorded.
        const verdict = settle?.(result);
        const tail = (await epilogue?.(result)) ?? '';
        if (tail !== '') stdout.write(tail);
        // The last output frames go out before the result, never after the socket's end.
        await Promise.all([finished(stdout.end()), finished(stderr.end())]).catch(() => {});
        this.finish(FrameType.Result, JSON.stringify({ ...result, ...verdict }));
      },
      (error: unknown) => {
        settle?.(error instanceof Error ? error : new Error(messageOf(error)));
        this.finish(FrameType.Error, JSON.stringify({ message: messageOf(error) }));
      },
    );
  }

  private onClose(): void {
    // The stage went away (killed, or its runner gave up): the command must not outlive it.
    if (this.phase !== 'finished') {
      this.cancel.abort();
      this.stdin.destroy();
    }
    // Without a request nothing will ever finish; with one, the command's end (or the failed connect) calls done.
    if (this.phase === 'awaiting-request' || this.phase === 'finished') this.done();
  }

  /** Sends the last frame and ends the client's socket. */
  private finish(type: FrameType, payload: string): void {
    this.phase = 'finished';
    if (this.socket.destroyed) return this.done();
    this.socket.once('close', this.done);
    this.socket.end(encodeFrame(type, payload), this.done);
  }

  private send(type: FrameType, payload?: Buffer | string, callback?: () => void): void {
    if (this.socket.destroyed) {
      callback?.();
      return;
    }
    this.socket.write(encodeFrame(type, payload), () => callback?.());
  }

  /**
   * Writes complete at once, each a frame in call order: a cleanup's log writes lines synchronously and its output is
   * small, so nothing is held back and nothing overtakes.
   */
  private immediateOutput(type: FrameType): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.send(type, chunk);
        callback();
      },
    });
  }

  /** Writes complete when the socket took the frame, so a slow client slows the remote command down, not memory. */
  private toClient(type: FrameType): Writable {
    return new Writable({ write: (chunk: Buffer, _encoding, callback) => this.send(type, chunk, () => callback()) });
  }
}

/** A cleanup request as the native client sends it; `undefined` when it is not one. */
function parseCleanupRequest(payload: Buffer): MuxCleanupRequest | undefined {
  try {
    const request = JSON.parse(payload.toString('utf8')) as Partial<MuxCleanupRequest> | null;
    const { argv, env, cwd } = request ?? {};
    const strings = (values: readonly unknown[]): boolean => values.every((value) => typeof value === 'string');
    if (!Array.isArray(argv) || !strings(argv) || typeof cwd !== 'string' || typeof env !== 'object' || env === null) return undefined;
    if (!strings(Object.values(env))) return undefined;
    const { sentAtMs } = request ?? {};
    return { argv, env, cwd, ...(typeof sentAtMs === 'number' ? { sentAtMs } : {}) };
  } catch {
    return undefined;
  }
}

/** Milliseconds of CLOCK_MONOTONIC (libuv's hrtime), the clock the native client stamps its cleanup request with. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}
