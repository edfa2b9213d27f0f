import { type Server, type Socket, createServer } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { messageOf } from '../errors.js';
import { FrameType, type MuxRequest, encodeFrame, frameReader } from './mux-protocol.js';
import type { Connection, ExecResult } from './transport.js';

/** Options of {@link serveMultiplexed}. */
export interface MuxServerOptions {
  /** Stop serving after this long without a command running. */
  readonly idleTimeoutMs: number;
  /** Called once when the server stops, with why. */
  readonly onStop: (reason: string) => void;
}

/** A running multiplexer. */
export interface MuxServer {
  /**
   * Stops accepting commands and ends the SSH connection. The running commands end at once, or, when `graceful`,
   * may finish first (for answers already on their way, such as "unavailable").
   */
  stop(reason: string, options?: { readonly graceful?: boolean }): void;
}

/**
 * Serves one SSH connection to the `run` stages of its job over a Unix socket, as OpenSSH's ControlMaster does: a
 * stage then costs one channel instead of a TCP connect, key exchange and authentication. Each client connection
 * carries one command (see mux-protocol.ts); a client that goes away cancels its command. The socket listens before
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
  const active = new Set<Socket>();
  let idleTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const server: Server = createServer((socket) => {
    active.add(socket);
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    serveClient(connecting, socket).finally(() => {
      active.delete(socket);
      if (active.size === 0) drained();
      armIdleTimer();
    });
  });

  let drained: () => void = () => {};
  const stop = (reason: string, how: { readonly graceful?: boolean } = {}): void => {
    if (stopped) return;
    stopped = true;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    server.close();
    connecting.then((connection) => connection.close(), () => {});
    if (how.graceful && active.size > 0) {
      drained = () => options.onStop(reason);
      return;
    }
    for (const socket of active) socket.destroy();
    options.onStop(reason);
  };
  const armIdleTimer = (): void => {
    if (stopped || active.size > 0) return;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop(`no command for ${Math.round(options.idleTimeoutMs / 1000)} s`), options.idleTimeoutMs);
    idleTimer.unref();
  };

  connecting.then((connection) => connection.onClose(() => stop('the SSH connection to the task ended')), () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  armIdleTimer();
  return { stop };
}

/** Runs the one command a client sends and reports how it ended; never rejects. */
function serveClient(connecting: Promise<Connection>, socket: Socket): Promise<void> {
  return new Promise((done) => {
    const stdin = new PassThrough();
    const cancel = new AbortController();
    let started = false;
    let finished = false;

    const send = (type: FrameType, payload?: Buffer | string, callback?: () => void): void => {
      if (socket.destroyed) {
        callback?.();
        return;
      }
      socket.write(encodeFrame(type, payload), () => callback?.());
    };
    const finish = (type: FrameType, payload: string): void => {
      finished = true;
      if (socket.destroyed) return done();
      socket.end(encodeFrame(type, payload), () => done());
      socket.once('close', () => done());
    };
    // Writes complete when the socket took the frame, so a slow client slows the remote command down, not memory.
    const toClient = (type: FrameType): Writable =>
      new Writable({ write: (chunk: Buffer, _encoding, callback) => send(type, chunk, () => callback()) });

    const execute = (connection: Connection, request: MuxRequest): void => {
      // The client went away while the connection was still coming up: nothing to run for anybody.
      if (socket.destroyed) return finish(FrameType.Result, JSON.stringify({ cancelled: true, lost: false }));
      connection
        .exec(request.command, {
          stdin,
          stdout: toClient(FrameType.Stdout),
          stderr: toClient(FrameType.Stderr),
          cancel: cancel.signal,
          forwardSignal: request.forwardSignal,
          graceMs: request.graceMs,
        })
        .then(
          (result: ExecResult) => finish(FrameType.Result, JSON.stringify(result)),
          (error: unknown) => finish(FrameType.Error, JSON.stringify({ message: messageOf(error) })),
        );
    };

    const onFrame = (type: FrameType, payload: Buffer): void => {
      if (type === FrameType.Request && !started) {
        started = true;
        const request = JSON.parse(payload.toString('utf8')) as MuxRequest;
        connecting.then(
          (connection) => execute(connection, request),
          (error: unknown) => finish(FrameType.Unavailable, JSON.stringify({ message: messageOf(error) })),
        );
      } else if (type === FrameType.Stdin) {
        // Backpressure: stop reading the client while the remote command has not taken its stdin yet.
        if (!stdin.write(payload)) {
          socket.pause();
          stdin.once('drain', () => socket.resume());
        }
      } else if (type === FrameType.StdinEnd) {
        stdin.end();
      } else if (type === FrameType.Cancel) {
        cancel.abort();
      }
    };

    const read = frameReader(onFrame);
    socket.on('data', (chunk: Buffer) => {
      try {
        read(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      // The stage went away (killed, or its runner gave up): the command must not outlive it.
      if (!finished) {
        cancel.abort();
        stdin.destroy();
      }
      if (!started || finished) done();
    });
  });
}
