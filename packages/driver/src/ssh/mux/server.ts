import { type Server, type Socket, createServer } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { messageOf } from '../../errors.js';
import { FrameType, type MuxRequest, encodeFrame, readFrames } from './protocol.js';
import type { Connection, ExecResult } from '../transport.js';

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
  const active = new Set<Socket>();
  let idleTimer: NodeJS.Timeout | undefined;
  let stopping: 'no' | 'graceful' | 'done' = 'no';
  let stopReason = '';

  const server: Server = createServer((socket) => {
    active.add(socket);
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    void serveClient(connecting, socket).then(() => {
      active.delete(socket);
      if (stopping === 'graceful' && active.size === 0) end();
      armIdleTimer();
    });
  });

  const end = (): void => {
    if (stopping === 'done') return;
    stopping = 'done';
    for (const socket of active) socket.destroy();
    options.onStop(stopReason);
  };
  const stop = (reason: string, how: { readonly graceful?: boolean } = {}): void => {
    if (stopping === 'no') {
      stopReason = reason;
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      server.close();
      connecting.then((connection) => connection.close(), () => {});
      stopping = 'graceful';
    }
    if (!how.graceful || active.size === 0) end();
  };
  const armIdleTimer = (): void => {
    if (stopping !== 'no' || active.size > 0) return;
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
  // Accepting can still fail later (out of file descriptors): stop cleanly rather than crash.
  server.on('error', (error) => stop(`the socket failed: ${messageOf(error)}`));
  armIdleTimer();
  return { stop };
}

/** Runs the one command a client sends and reports how it ended; never rejects. */
function serveClient(connecting: Promise<Connection>, socket: Socket): Promise<void> {
  return new Promise((done) => {
    // The script is buffered here rather than holding the client back: the client's socket must stay readable for
    // a cancel, or its close, at any time. Scripts are files of bounded size.
    const stdin = new PassThrough({ highWaterMark: 1024 * 1024 });
    const cancel = new AbortController();
    let requested = false;
    let startedCommand = false;
    let finishedCommand = false;
    const notStarted = JSON.stringify({ cancelled: true, lost: false });

    const send = (type: FrameType, payload?: Buffer | string, callback?: () => void): void => {
      if (socket.destroyed) {
        callback?.();
        return;
      }
      socket.write(encodeFrame(type, payload), () => callback?.());
    };
    const finish = (type: FrameType, payload: string): void => {
      finishedCommand = true;
      if (socket.destroyed) return done();
      socket.once('close', () => done());
      socket.end(encodeFrame(type, payload), () => done());
    };
    // Writes complete when the socket took the frame, so a slow client slows the remote command down, not memory.
    const toClient = (type: FrameType): Writable =>
      new Writable({ write: (chunk: Buffer, _encoding, callback) => send(type, chunk, () => callback()) });

    const execute = (connection: Connection, request: MuxRequest): void => {
      if (finishedCommand) return; // cancelled while the connection was still coming up
      if (socket.destroyed || cancel.signal.aborted) return finish(FrameType.Result, notStarted);
      startedCommand = true;
      send(FrameType.Started);
      const stdout = toClient(FrameType.Stdout);
      const stderr = toClient(FrameType.Stderr);
      connection
        .exec(request.command, {
          stdin, stdout, stderr, cancel: cancel.signal, forwardSignal: request.forwardSignal, graceMs: request.graceMs,
        })
        .then(async (result: ExecResult) => {
          // The last output frames go out before the result, never after the socket's end.
          await Promise.all([finished(stdout.end()), finished(stderr.end())]).catch(() => {});
          finish(FrameType.Result, JSON.stringify(result));
        }, (error: unknown) => finish(FrameType.Error, JSON.stringify({ message: messageOf(error) })));
    };

    const onFrame = (type: FrameType, payload: Buffer): void => {
      if (finishedCommand) return;
      if (type === FrameType.Request && !requested) {
        requested = true;
        let request: MuxRequest;
        try {
          request = JSON.parse(payload.toString('utf8')) as MuxRequest;
        } catch {
          return finish(FrameType.Unavailable, JSON.stringify({ message: 'the request is not JSON' }));
        }
        connecting.then(
          (connection) => execute(connection, request),
          (error: unknown) => finish(FrameType.Unavailable, JSON.stringify({ message: messageOf(error) })),
        );
      } else if (type === FrameType.Stdin) {
        stdin.write(payload);
      } else if (type === FrameType.StdinEnd) {
        stdin.end();
      } else if (type === FrameType.Cancel) {
        cancel.abort();
        // Not started yet (the connection is still coming up): answer now, and never start it.
        if (requested && !startedCommand) finish(FrameType.Result, notStarted);
      }
    };

    readFrames(socket, onFrame);
    socket.once('close', () => {
      // The stage went away (killed, or its runner gave up): the command must not outlive it.
      if (!finishedCommand) {
        cancel.abort();
        stdin.destroy();
      }
      // Without a request nothing will ever finish; with one, the command's end (or the failed connect) calls done.
      if (!requested || finishedCommand) done();
    });
  });
}
