import { type Socket, createConnection } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { SystemFailure } from '../../errors.js';
import { DEFAULT_GRACE_MS, stdinStream } from '../exec.js';
import type { Connection, ExecResult, ExecStreams, Transport, TransportTarget } from '../transport.js';
import { FrameType, type MuxRequest, encodeFrame, readFrames } from './protocol.js';

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

/**
 * How long past the request's grace period a cancelled client waits for the multiplexer's answer. The multiplexer
 * spends up to `KILL_WAIT_MS` after the grace period on SIGKILL, and up to `STDERR_TAIL_WAIT_MS` on stderr's tail
 * (`../exec.ts`), before it answers; a test checks the margin leaves room for both. The native run client
 * (`native/run-client.c`) has its own copy; a test checks that they match.
 */
export const CANCEL_ANSWER_MARGIN_MS = 5_000;

/**
 * Reaches the job container through the job's multiplexer (server.ts) instead of a new SSH connection. The
 * multiplexer pins the host key and authenticates; `connect` only opens its Unix socket, so the target's SSH
 * details are not used. Both `connect` and `exec` reject with {@link MuxUnavailable} when nothing ran.
 *
 * With `stage` (a `run` stage's name), each request names the stage instead of the command: the multiplexer picks
 * the command and the container (the one `stageExecution` names, the same the caller would) and records the stage's
 * outcome, as it does for the native client (`native/run-client.c`), so both clients behave the same.
 */
export function multiplexedTransport(socketPath: string, stage?: string): Transport {
  return {
    connect: (target: TransportTarget) =>
      new Promise<Connection>((resolve, reject) => {
        const socket = createConnection(socketPath);
        socket.once('connect', () => {
          socket.off('error', onError);
          resolve(new MultiplexedConnection(socket, socketPath, target.hostKey ?? '', stage));
        });
        const onError = (error: NodeJS.ErrnoException): void => reject(new MuxUnavailable(socketPath, error.code ?? error.message));
        socket.once('error', onError);
      }),
  };
}

/** How a client's command ended: what `exec` resolves or rejects with. */
export type ClientOutcome = { readonly result: ExecResult } | { readonly error: Error };

/**
 * Where a command stands, as its client knows it:
 * - `requested`: the request is sent, the multiplexer has not started the command (an end here means nothing ran);
 * - `started`: the multiplexer is starting it (an end here means its outcome is lost, as with a dropped connection);
 * - `answered`: the last frame came (a result, an error, or "unavailable"); the socket's close ends the exchange.
 */
export type ClientPhase = 'requested' | 'started' | 'answered';

/** The client's side of one command, without the socket: the frames it got decide how `exec` ends. */
export class ClientExchange {
  private current: ClientPhase = 'requested';
  private answer: ClientOutcome | undefined;
  private cancelRequested = false;
  private stdinError: Error | undefined;

  constructor(private readonly socketPath: string) {}

  get phase(): ClientPhase {
    return this.current;
  }

  /** Takes a frame that moves the command on; output frames are the caller's, and frames after the answer are ignored. */
  onFrame(type: FrameType, payload: Buffer): void {
    if (this.current === 'answered') return;
    if (type === FrameType.Started) this.current = 'started';
    else if (type === FrameType.Result) this.answered({ result: JSON.parse(payload.toString('utf8')) as ExecResult });
    else if (type === FrameType.Error) this.answered({ error: new SystemFailure(messageIn(payload)) });
    else if (type === FrameType.Unavailable) this.answered({ error: new MuxUnavailable(this.socketPath, messageIn(payload)) });
  }

  /** Records a cancel; true the first time only (the caller then sends the Cancel frame). */
  cancel(): boolean {
    if (this.cancelRequested) return false;
    this.cancelRequested = true;
    return true;
  }

  /** The script could not be read: whatever else happens, the command fails with this. */
  stdinFailed(error: Error): void {
    this.stdinError = new SystemFailure(`cannot read the script: ${error.message}`);
  }

  /** How the command ended, once the multiplexer's socket closed. */
  closed(): ClientOutcome {
    if (this.stdinError !== undefined) return { error: this.stdinError };
    switch (this.current) {
      case 'requested':
        // The multiplexer went away before starting the command (it was stopping): nothing ran.
        return { error: new MuxUnavailable(this.socketPath, 'it closed the connection before starting the command') };
      case 'started':
        // The multiplexer died mid-command (or was given up on): as with a dropped SSH connection, the outcome is lost.
        return { result: { cancelled: this.cancelRequested, lost: true } };
      case 'answered': {
        const answer = this.answer as ClientOutcome;
        if ('error' in answer) return answer;
        return { result: { ...answer.result, cancelled: answer.result.cancelled || this.cancelRequested } };
      }
    }
  }

  private answered(answer: ClientOutcome): void {
    this.current = 'answered';
    this.answer = answer;
  }
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
    private readonly stage: string | undefined,
  ) {}

  exec(command: string, streams: ExecStreams): Promise<ExecResult> {
    if (this.used) return Promise.reject(new Error('a multiplexed connection runs one command'));
    this.used = true;
    const { socket } = this;
    const graceMs = streams.graceMs ?? DEFAULT_GRACE_MS;
    const exchange = new ClientExchange(this.socketPath);
    return new Promise((resolve, reject) => {
      let giveUpTimer: NodeJS.Timeout | undefined;
      const onCancel = (): void => {
        if (!exchange.cancel()) return;
        socket.write(encodeFrame(FrameType.Cancel));
        // The multiplexer answers once the command exits: by itself, from the forwarded signal, or from the SIGKILL at
        // the end of its grace period (within KILL_WAIT_MS, plus STDERR_TAIL_WAIT_MS for the tail). A silent one is
        // given up on, and says so: the command's outcome is then lost, and it may still run in the task.
        const waitMs = graceMs + CANCEL_ANSWER_MARGIN_MS;
        giveUpTimer = setTimeout(() => giveUpOn(socket, streams.stderr, waitMs), waitMs);
      };
      this.readAnswers(exchange, streams);
      socket.once('close', () => {
        if (giveUpTimer !== undefined) clearTimeout(giveUpTimer);
        streams.cancel?.removeEventListener('abort', onCancel);
        const outcome = exchange.closed();
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.result);
      });
      const forwardSignal = streams.forwardSignal ?? 'TERM';
      const request: MuxRequest =
        this.stage === undefined ? { command, forwardSignal, graceMs } : { stage: this.stage, forwardSignal, graceMs };
      socket.write(encodeFrame(FrameType.Request, JSON.stringify(request)));
      if (streams.cancel?.aborted) onCancel();
      else streams.cancel?.addEventListener('abort', onCancel, { once: true });
      this.sendStdin(stdinStream(streams.stdin), (error) => {
        // An unreadable script must not run half: cancel whatever the remote side already started.
        exchange.stdinFailed(error);
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

  /** Passes output through to the stage's streams and everything else to `exchange`. */
  private readAnswers(exchange: ClientExchange, streams: ExecStreams): void {
    const passThrough = outputPassThrough(this.socket);
    readFrames(this.socket, (type, payload) => {
      if (type === FrameType.Stdout) passThrough(streams.stdout, payload);
      else if (type === FrameType.Stderr) passThrough(streams.stderr, payload);
      else exchange.onFrame(type, payload);
    });
  }

  /** Sends the script as Stdin frames, pausing while the socket is full, then StdinEnd. */
  private sendStdin(stdin: Readable, onError: (error: Error) => void): void {
    const { socket } = this;
    stdin.on('data', (chunk: Buffer) => {
      if (!socket.write(encodeFrame(FrameType.Stdin, chunk))) {
        stdin.pause();
        socket.once('drain', () => stdin.resume());
      }
    });
    stdin.once('end', () => socket.write(encodeFrame(FrameType.StdinEnd)));
    stdin.once('error', onError);
  }
}

/** Stops waiting for a multiplexer that did not answer a cancel within `waitMs`, with a line on stderr. */
function giveUpOn(socket: Socket, stderr: Writable, waitMs: number): void {
  stderr.write(`gitlab-fargate-driver: the job's SSH multiplexer did not answer within ${waitMs / 1000} s of the cancel: giving up on it\n`);
  socket.destroy();
}

/** Writes output frames to their stream; reading pauses while stdout or stderr is full, until every full one drained. */
function outputPassThrough(socket: Socket): (target: Writable, payload: Buffer) => void {
  const full = new Set<Writable>();
  return (target, payload) => {
    if (target.write(payload) || full.has(target)) return;
    full.add(target);
    socket.pause();
    target.once('drain', () => {
      full.delete(target);
      if (full.size === 0) socket.resume();
    });
  };
}
