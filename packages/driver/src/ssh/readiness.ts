import { type Deferred, deferred } from '../deferred.js';
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
  const attempts = new HedgedAttempts(transport, target, options, now() + deadlineMs);
  let delay = options.minDelayMs ?? 250;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      if (attempts.inFlight < MAX_ATTEMPTS_IN_FLIGHT) attempts.launch();
      const outcome = await Promise.race([attempts.decided.promise, sleep(delay, options.signal).then(() => undefined)]);
      if (outcome !== undefined) {
        if ('connection' in outcome) return outcome.connection;
        throw outcome.error;
      }
      if (now() >= attempts.deadline) throw attempts.gaveUp(deadlineMs);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  } finally {
    // Attempts still pending close their connection if they succeed after this point.
    attempts.settled = true;
  }
}

/** How the probe ends: the first connection, or a failure no later attempt can cure. */
type ProbeOutcome = { readonly connection: Connection } | { readonly error: unknown };

/** The connection attempts of one probe, several of which may be pending at once. */
class HedgedAttempts {
  /** Settled by the first success or the first permanent failure. */
  readonly decided: Deferred<ProbeOutcome> = deferred();
  /** Once set, an attempt that still succeeds closes its connection. */
  settled = false;
  started = 0;
  inFlight = 0;
  private lastError: Error | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly target: TransportTarget,
    private readonly options: ReadinessOptions,
    readonly deadline: number,
  ) {}

  /** Starts one more attempt, timed out at the deadline at the latest (and never under a second). */
  launch(): void {
    this.started += 1;
    this.inFlight += 1;
    const attempt = this.started;
    const remaining = this.deadline - (this.options.now ?? Date.now)();
    this.transport
      .connect(this.target, { timeoutMs: Math.max(1_000, Math.min(this.options.attemptTimeoutMs ?? 10_000, remaining)) })
      .then(
        (connection) => this.succeeded(connection),
        (error: unknown) => this.failed(attempt, error),
      )
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  /** The error once the deadline passed: how many attempts, and why the last one failed. */
  gaveUp(deadlineMs: number): SystemFailure {
    return new SystemFailure(notAcceptingSsh(deadlineMs, this.started, this.lastError), { cause: this.lastError });
  }

  private succeeded(connection: Connection): void {
    if (this.settled) connection.close();
    else this.decided.resolve({ connection });
  }

  private failed(attempt: number, error: unknown): void {
    // Only connection trouble goes away by waiting; a changed host key or an unusable job key never does.
    const permanent = !(error instanceof Error) || (error instanceof SystemFailure && !(error instanceof SshConnectError));
    if (permanent) this.decided.resolve({ error });
    else if (!this.settled) {
      this.lastError = error;
      this.options.onRetry?.(attempt, error);
    }
  }
}

/** What the job log says when sshd never answered: the wait, the attempts and the last attempt's error. */
export function notAcceptingSsh(deadlineMs: number, attempts: number, lastError: Error | undefined): string {
  return (
    `the job container did not accept SSH within ${Math.round(deadlineMs / 1000)} s ` +
    `(${attempts} attempts); last error: ${lastError?.message ?? 'no attempt finished'}`
  );
}
