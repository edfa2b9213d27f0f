import { Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { ExecResult, ExecStreams } from './transport.js';

/**
 * The remote command that runs a job script: bash reading the script from stdin. Nothing travels in argv, so
 * there is no `MAX_ARG_STRLEN` (128 KiB) limit, unlike upstream which sent the whole script as the exec string.
 * The runner's scripts redirect their own stdin from /dev/null, so the script text is all bash reads. The SSH
 * connection runs it through {@link withPidFile}, which adds the `exec`.
 */
export const SCRIPT_COMMAND = 'bash -s';

/**
 * Wraps a remote command so that its process id lands in `pidFile` first (the login shell's `$$` survives `exec`).
 * sshd refuses SSH `signal` requests for root sessions ("session signalling requires privilege separation": root
 * logins skip the unprivileged child), so cancellation also kills the command's process group through a second
 * channel, using this file.
 */
export function withPidFile(command: string, pidFile: string): string {
  return `echo $$ > ${pidFile}; exec ${command}`;
}

/** The side-channel command that signals the process group recorded by {@link withPidFile}. */
export function killCommand(pidFile: string, signal: string): string {
  const pid = `"$(cat ${pidFile})"`;
  return `kill -s ${signal} -- -${pid} 2>/dev/null || kill -s ${signal} ${pid}`;
}

/** A command's stdin as a stream, whatever form it was given in. */
export function stdinStream(stdin: ExecStreams['stdin']): Readable {
  return typeof stdin === 'string' || Buffer.isBuffer(stdin) ? Readable.from([Buffer.from(stdin)]) : stdin;
}

/**
 * How long a cancelled command has to exit after the forwarded signal before it gets SIGKILL, when the caller does not
 * say. The native run client (`native/run-client.c`) has its own copy, `GRACE_MS`; a test checks that they match.
 */
export const DEFAULT_GRACE_MS = 10_000;

/** How long after the channel closed its stderr may take to deliver the rest. */
export const STDERR_TAIL_WAIT_MS = 2_000;

/** How long a command that outlived its grace period has to end after SIGKILL before its channel is given up on. */
export const KILL_WAIT_MS = 1_000;

/**
 * Drives one exec channel: feeds stdin, passes stdout/stderr through as they arrive (with backpressure), and
 * resolves with the exit status once the channel closes. On cancel it forwards a signal and waits for the remote
 * process for a grace period; one still running then gets SIGKILL (the same two ways), and {@link KILL_WAIT_MS}
 * later its channel is closed and given up on: the result goes out at once, and `abandon` ends the connection
 * when it is the command's own (a shared one goes on serving the other commands).
 */
export function execOnChannel(
  channel: ClientChannel,
  streams: ExecStreams,
  abandon: () => void,
  alsoSignal?: (signal: string) => void,
): Promise<ExecResult> {
  return new Promise((resolve) => new ChannelRun(channel, streams, abandon, alsoSignal, resolve).start());
}

/** What must end before a channel's command is over: the channel itself, and the stderr stream ssh2 does not wait for. */
type ChannelEnd = 'channel' | 'stderr';

/** One command on one exec channel, from its start to its result. */
class ChannelRun {
  private exitCode: number | undefined;
  private signal: string | undefined;
  private cancelled = false;
  private graceTimer: NodeJS.Timeout | undefined;
  /** The command exited and its channel closed: nothing is left to signal, only stderr's tail to wait for. */
  private channelClosed = false;
  /** The ends still to come; the result goes out once none is left. */
  private readonly pending = new Set<ChannelEnd>(['channel', 'stderr']);
  private settled = false;
  private readonly stdin: Readable;

  constructor(
    private readonly channel: ClientChannel,
    private readonly streams: ExecStreams,
    private readonly abandon: () => void,
    private readonly alsoSignal: ((signal: string) => void) | undefined,
    private readonly resolve: (result: ExecResult) => void,
  ) {
    this.stdin = stdinStream(streams.stdin);
  }

  start(): void {
    const { channel, streams } = this;
    channel.on('exit', (code: number | null, signalName?: string) => {
      if (typeof code === 'number') this.exitCode = code;
      if (typeof signalName === 'string') this.signal = signalName.replace(/^SIG/, '');
    });
    if (streams.cancel?.aborted) this.onCancel();
    else streams.cancel?.addEventListener('abort', this.onCancel, { once: true });
    this.watchEnds();
    // A channel that ends while stdin is still being written (the command exited early, or was given up on) must not
    // throw "write after end" out of the pipe.
    channel.on('error', () => {});
    channel.pipe(streams.stdout, { end: false });
    channel.stderr.pipe(streams.stderr, { end: false });
    this.stdin.on('error', () => channel.close());
    this.stdin.pipe(channel);
  }

  /** Forwards the signal, then gives the remote process its grace period before giving up on it. */
  private readonly onCancel = (): void => {
    if (this.cancelled) return;
    this.cancelled = true;
    // Exited already (stderr's tail is still coming): its process group is gone, and its PID may be reused.
    if (this.channelClosed) return;
    const name = this.streams.forwardSignal ?? 'TERM';
    try {
      sendSignal(this.channel, name);
    } catch {
      // The channel may be closing already; the grace timer still bounds the wait.
    }
    this.alsoSignal?.(name);
    const graceMs = this.streams.graceMs ?? DEFAULT_GRACE_MS;
    this.graceTimer = setTimeout(() => this.kill(`${graceMs / 1000} s`, name), graceMs);
  };

  /**
   * The command ignored the forwarded signal for its whole grace period: SIGKILL, then, if even that does not end it
   * soon, the channel is given up on. sshd closes a session's channel only once its command exited, so without the
   * kill a command that ignores SIGTERM would hold the stage until its client gives up on the multiplexer.
   */
  private kill(grace: string, forwarded: string): void {
    this.streams.stderr.write(`gitlab-fargate-driver: the remote command did not exit within ${grace} of SIG${forwarded}: sending SIGKILL\n`);
    try {
      sendSignal(this.channel, 'KILL');
    } catch {
      // Closing already: the timer below still bounds the wait.
    }
    this.alsoSignal?.('KILL');
    this.graceTimer = setTimeout(() => this.giveUp(), KILL_WAIT_MS);
  }

  /** Stops waiting for the channel: closes it, drops what it still sends, and settles now with no exit status. */
  private giveUp(): void {
    const { channel, streams } = this;
    channel.unpipe(streams.stdout);
    channel.stderr.unpipe(streams.stderr);
    this.stdin.unpipe(channel);
    channel.resume();
    channel.stderr.resume();
    channel.close();
    this.abandon();
    this.pending.clear();
    this.ended('channel');
  }

  /**
   * The result goes out once the channel closed (ssh2 emits that after stdout's end) and stderr delivered its last
   * bytes too: ssh2 does not wait for stderr, whose tail must not be cut off. A stderr reader that never drains only
   * delays it.
   */
  private watchEnds(): void {
    const { channel } = this;
    const stderrFinished = (): void => this.ended('stderr');
    channel.stderr.once('end', stderrFinished);
    channel.stderr.once('close', stderrFinished);
    channel.once('close', () => {
      // The command is over: a grace period still running must not SIGKILL a process that already exited (its PID may
      // be reused) nor, once that kill gives up, cut off the stderr tail still on its way.
      this.channelClosed = true;
      clearTimeout(this.graceTimer);
      this.stdin.unpipe(channel);
      setTimeout(stderrFinished, STDERR_TAIL_WAIT_MS).unref();
      this.ended('channel');
    });
  }

  private ended(what: ChannelEnd): void {
    this.pending.delete(what);
    if (this.settled || this.pending.size > 0) return;
    this.settled = true;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.streams.cancel?.removeEventListener('abort', this.onCancel);
    const lost = this.exitCode === undefined && this.signal === undefined;
    this.resolve({ exitCode: this.exitCode, signal: this.signal, cancelled: this.cancelled, lost });
  }
}

/** The parts of ssh2's channel internals that sending a signal needs. */
interface ChannelInternals {
  readonly outgoing?: { readonly id: number; readonly state: string };
  readonly _client?: { readonly _protocol?: { signal(id: number, name: string): void } };
}

/**
 * Sends an SSH `signal` request. ssh2's `channel.signal()` silently drops it once our side has sent EOF, which is
 * always the case here (the whole script went to stdin), although the channel is still open and sshd still
 * forwards signals (to the session's process group) until it closes.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const internals = channel as unknown as ChannelInternals;
  const protocol = internals._client?._protocol;
  const state = internals.outgoing?.state;
  if ((state === 'open' || state === 'eof') && protocol !== undefined && internals.outgoing !== undefined) {
    protocol.signal(internals.outgoing.id, name);
  } else {
    channel.signal(name);
  }
}
