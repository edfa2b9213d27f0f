import { type Socket, createConnection } from 'node:net';
import type { Writable } from 'node:stream';
import { SystemFailure } from '../../errors.js';
import { stdinStream } from '../exec.js';
import { FrameType, type MuxRequest, encodeFrame, readFrames } from './protocol.js';
import type { Connection, ExecResult, ExecStreams, Transport, TransportTarget } from '../transport.js';

/**
 * The job's multiplexer cannot run the command (never started, exited, its socket is gone, or it could not connect
 * to the task): nothing ran, so the stage may connect on its own.
 */
export class MuxUnavailable extends SystemFailure {
  constructor(socketPath: string, reason: string) {
    super(`the job's SSH multiplexer at ${socketPath} does not answer: ${reason}`);
    this.name = 'MuxUnavailable';
  }
}

/** How long past the request's grace period a cancelled client waits for the multiplexer's answer. */
const CANCEL_ANSWER_MARGIN_MS = 5_000;

/**
 * Reaches the job container through the job's multiplexer (server.ts) instead of a new SSH connection. The
 * multiplexer pins the host key and authenticates; `connect` only opens its Unix socket, so the target's SSH
 * details are not used. Both `connect` and `exec` reject with {@link MuxUnavailable} when nothing ran.
 */
export function multiplexedTransport(socketPath: string): Transport {
  return {
    connect: (target: TransportTarget) =>
      new Promise<Connection>((resolve, reject) => {
        const socket = createConnection(socketPath);
        socket.once('connect', () => {
          socket.off('error', onError);
          resolve(new MultiplexedConnection(socket, socketPath, target.hostKey ?? ''));
        });
        const onError = (error: NodeJS.ErrnoException): void => reject(new MuxUnavailable(socketPath, error.code ?? error.message));
        socket.once('error', onError);
      }),
  };
}

/** The `{ message }` of an Error or Unavailable frame. */
function messageIn(payload: Buffer): string {
  return (JSON.parse(payload.toString('utf8')) as { message: string }).message;
}

/** One client connection to the multiplexer: carries exactly one command. */
class MultiplexedConnection implements Connection {
  private used = false;

  constructor(
    private readonly socket: Socket,
    private readonly socketPath: string,
    readonly hostKey: string,
  ) {}

  exec(command: string, streams: ExecStreams): Promise<ExecResult> {
    if (this.used) return Promise.reject(new Error('a multiplexed connection runs one command'));
    this.used = true;
    const { socket, socketPath } = this;
    const graceMs = streams.graceMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let outcome: { result: ExecResult } | { error: Error } | undefined;
      let started = false;
      let stdinError: Error | undefined;
      let cancelled = false;
      let giveUpTimer: NodeJS.Timeout | undefined;

      const onCancel = (): void => {
        if (cancelled) return;
        cancelled = true;
        socket.write(encodeFrame(FrameType.Cancel));
        // The multiplexer answers once the command exits or its grace period ends; a silent one is given up on.
        giveUpTimer = setTimeout(() => socket.destroy(), graceMs + CANCEL_ANSWER_MARGIN_MS);
      };

      // Reading pauses while stdout or stderr is full, and resumes once every full one drained.
      const full = new Set<Writable>();
      const passThrough = (target: Writable, payload: Buffer): void => {
        if (target.write(payload) || full.has(target)) return;
        full.add(target);
        socket.pause();
        target.once('drain', () => {
          full.delete(target);
          if (full.size === 0) socket.resume();
        });
      };
      readFrames(socket, (type, payload) => {
        if (type === FrameType.Started) started = true;
        else if (type === FrameType.Stdout) passThrough(streams.stdout, payload);
        else if (type === FrameType.Stderr) passThrough(streams.stderr, payload);
        else if (type === FrameType.Result) outcome = { result: JSON.parse(payload.toString('utf8')) as ExecResult };
        else if (type === FrameType.Error) outcome = { error: new SystemFailure(messageIn(payload)) };
        else if (type === FrameType.Unavailable) outcome = { error: new MuxUnavailable(socketPath, messageIn(payload)) };
      });
      socket.once('close', () => {
        if (giveUpTimer !== undefined) clearTimeout(giveUpTimer);
        streams.cancel?.removeEventListener('abort', onCancel);
        if (stdinError !== undefined) {
          reject(stdinError);
        } else if (outcome === undefined && !started) {
          // The multiplexer went away before starting the command (it was stopping): nothing ran.
          reject(new MuxUnavailable(socketPath, 'it closed the connection before starting the command'));
        } else if (outcome === undefined) {
          // The multiplexer died mid-command (or was given up on): as with a dropped SSH connection, the outcome is lost.
          resolve({ cancelled, lost: true });
        } else if ('error' in outcome) {
          reject(outcome.error);
        } else {
          resolve({ ...outcome.result, cancelled: outcome.result.cancelled || cancelled });
        }
      });

      const request: MuxRequest = { command, forwardSignal: streams.forwardSignal ?? 'TERM', graceMs };
      socket.write(encodeFrame(FrameType.Request, JSON.stringify(request)));
      if (streams.cancel?.aborted) onCancel();
      else streams.cancel?.addEventListener('abort', onCancel, { once: true });

      const stdin = stdinStream(streams.stdin);
      stdin.on('data', (chunk: Buffer) => {
        if (!socket.write(encodeFrame(FrameType.Stdin, chunk))) {
          stdin.pause();
          socket.once('drain', () => stdin.resume());
        }
      });
      stdin.once('end', () => socket.write(encodeFrame(FrameType.StdinEnd)));
      stdin.once('error', (error) => {
        // An unreadable script must not run half: cancel whatever the remote side already started.
        stdinError = new SystemFailure(`cannot read the script: ${error.message}`);
        onCancel();
      });
    });
  }

  onClose(listener: () => void): void {
    if (this.socket.closed) listener();
    else this.socket.once('close', listener);
  }

  close(): void {
    this.socket.end();
  }
}
