import { Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { ExecResult, ExecStreams } from './transport.js';

/**
 * The remote command that runs a job script: bash reading the script from stdin. Nothing travels in argv, so
 * there is no `MAX_ARG_STRLEN` (128 KiB) limit, unlike upstream which sent the whole script as the exec string.
 * The runner's scripts redirect their own stdin from /dev/null, so the script text is all bash reads.
 */
export const SCRIPT_COMMAND = 'exec bash -s';

/**
 * Drives one exec channel: feeds stdin, passes stdout/stderr through as they arrive (with backpressure), and
 * resolves with the exit status once the channel closes. On cancel it forwards a signal, waits for the remote
 * process for a grace period, then gives up via `abandon` (which closes the connection).
 */
export function execOnChannel(channel: ClientChannel, streams: ExecStreams, abandon: () => void): Promise<ExecResult> {
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
      try {
        channel.signal(streams.forwardSignal ?? 'TERM');
      } catch {
        // The channel may be closing already; the grace timer still bounds the wait.
      }
      graceTimer = setTimeout(() => {
        channel.close();
        abandon();
      }, streams.graceMs ?? 10_000);
    };
    if (streams.cancel?.aborted) onCancel();
    else streams.cancel?.addEventListener('abort', onCancel, { once: true });

    channel.once('close', () => {
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      streams.cancel?.removeEventListener('abort', onCancel);
      const lost = exitCode === undefined && signal === undefined;
      resolve({ exitCode, signal, cancelled, lost });
    });

    channel.pipe(streams.stdout, { end: false });
    channel.stderr.pipe(streams.stderr, { end: false });

    const stdin = typeof streams.stdin === 'string' || Buffer.isBuffer(streams.stdin)
      ? Readable.from([Buffer.from(streams.stdin)])
      : streams.stdin;
    stdin.on('error', () => channel.close());
    stdin.pipe(channel);
  });
}
