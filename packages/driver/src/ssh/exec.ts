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

/** How long after the channel closed its stderr may take to deliver the rest. */
const STDERR_TAIL_WAIT_MS = 2_000;

/**
 * Drives one exec channel: feeds stdin, passes stdout/stderr through as they arrive (with backpressure), and
 * resolves with the exit status once the channel closes. On cancel it forwards a signal, waits for the remote
 * process for a grace period, then gives up via `abandon` (which closes the connection).
 */
export function execOnChannel(
  channel: ClientChannel,
  streams: ExecStreams,
  abandon: () => void,
  alsoSignal?: (signal: string) => void,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    let exitCode: number | undefined;
    let signal: string | undefined;
    let cancelled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    channel.on('exit', (code: number | null, signalName?: string) => {
      if (typeof code === 'number') exitCode = code;
      if (typeof signalName === 'string') signal = signalName.replace(/^SIG/, '');
    });

    const onCancel = (): void => {
      if (cancelled) return;
      cancelled = true;
      const name = streams.forwardSignal ?? 'TERM';
      try {
        sendSignal(channel, name);
      } catch {
        // The channel may be closing already; the grace timer still bounds the wait.
      }
      alsoSignal?.(name);
      graceTimer = setTimeout(() => {
        channel.close();
        abandon();
      }, streams.graceMs ?? 10_000);
    };
    if (streams.cancel?.aborted) onCancel();
    else streams.cancel?.addEventListener('abort', onCancel, { once: true });

    // Resolved once the channel closed (ssh2 emits that after stdout's end) and stderr delivered its last bytes too:
    // ssh2 does not wait for stderr, whose tail must not be cut off. A stderr reader that never drains only delays it.
    let settled = false;
    let stderrDone = false;
    let channelClosed = false;
    const settle = (): void => {
      if (settled || !channelClosed || !stderrDone) return;
      settled = true;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      streams.cancel?.removeEventListener('abort', onCancel);
      const lost = exitCode === undefined && signal === undefined;
      resolve({ exitCode, signal, cancelled, lost });
    };
    const stderrFinished = (): void => {
      stderrDone = true;
      settle();
    };
    channel.stderr.once('end', stderrFinished);
    channel.stderr.once('close', stderrFinished);
    channel.once('close', () => {
      stdin.unpipe(channel);
      channelClosed = true;
      setTimeout(stderrFinished, STDERR_TAIL_WAIT_MS).unref();
      settle();
    });
    // A channel that ends while stdin is still being written (the command exited early, or was given up on) must not
    // throw "write after end" out of the pipe.
    channel.on('error', () => {});

    channel.pipe(streams.stdout, { end: false });
    channel.stderr.pipe(streams.stderr, { end: false });

    const stdin = stdinStream(streams.stdin);
    stdin.on('error', () => channel.close());
    stdin.pipe(channel);
  });
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
