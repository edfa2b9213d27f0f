import { SystemFailure } from '../errors.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { SshConnectError } from './connect.js';
import type { Connection, Transport, TransportTarget } from './transport.js';

/** Options of {@link waitUntilReachable}. */
export interface ReadinessOptions {
  /** Give up after this long. @default 120_000 */
  readonly deadlineMs?: number;
  /** Timeout of one connection attempt. @default 10_000 */
  readonly attemptTimeoutMs?: number;
  /** First pause between attempts; doubles up to `maxDelayMs`. @default 250 */
  readonly minDelayMs?: number;
  /** @default 2_000 */
  readonly maxDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  /** Called after each failed attempt (for debug logs). */
  readonly onRetry?: (attempt: number, error: Error) => void;
}

/** Attempts that may be in flight at once; see {@link waitUntilReachable}. */
const MAX_ATTEMPTS_IN_FLIGHT = 3;

/**
 * Readiness probe: connects until the SSH handshake and key authentication succeed (RUNNING in ECS says nothing
 * about sshd). A changed host key or an unusable job key is final; connection errors are retried until the deadline.
 *
 * A new attempt starts every interval even while earlier ones are still pending, and the first to succeed wins
 * (later ones are closed). An attempt that connected while the container was starting can sit waiting for a
 * banner long after sshd answers fresh connections; with hedged attempts it no longer holds readiness back.
 */
export async function waitUntilReachable(
  transport: Transport,
  target: TransportTarget,
  options: ReadinessOptions = {},
): Promise<Connection> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadlineMs = options.deadlineMs ?? 120_000;
  const deadline = now() + deadlineMs;
  let delay = options.minDelayMs ?? 250;
  let attempts = 0;
  let inFlight = 0;
  let settled = false;
  let lastError: Error | undefined;
  let decide: (outcome: { connection: Connection } | { error: unknown }) => void = () => {};
  const decided = new Promise<{ connection: Connection } | { error: unknown }>((resolve) => {
    decide = resolve;
  });

  const launch = () => {
    attempts += 1;
    inFlight += 1;
    const attempt = attempts;
    const remaining = deadline - now();
    transport
      .connect(target, { timeoutMs: Math.max(1_000, Math.min(options.attemptTimeoutMs ?? 10_000, remaining)) })
      .then(
        (connection) => {
          if (settled) connection.close();
          else decide({ connection });
        },
        (error: unknown) => {
          // Only connection trouble goes away by waiting; a changed host key or an unusable job key never does.
          const permanent = !(error instanceof Error) || (error instanceof SystemFailure && !(error instanceof SshConnectError));
          if (permanent) decide({ error });
          else if (!settled) {
            lastError = error;
            options.onRetry?.(attempt, error);
          }
        },
      )
      .finally(() => {
        inFlight -= 1;
      });
  };

  try {
    for (;;) {
      options.signal?.throwIfAborted();
      if (inFlight < MAX_ATTEMPTS_IN_FLIGHT) launch();
      const outcome = await Promise.race([decided, sleep(delay, options.signal).then(() => undefined)]);
      if (outcome !== undefined) {
        if ('connection' in outcome) return outcome.connection;
        throw outcome.error;
      }
      if (now() >= deadline) {
        throw new SystemFailure(
          `the job container did not accept SSH within ${Math.round(deadlineMs / 1000)} s ` +
            `(${attempts} attempts); last error: ${lastError?.message ?? 'no attempt finished'}`,
          { cause: lastError },
        );
      }
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  } finally {
    // Attempts still pending close their connection if they succeed after this point.
    settled = true;
  }
}
