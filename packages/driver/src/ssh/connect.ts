import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { SystemFailure, messageOf } from '../errors.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { execOnChannel, killCommand, withPidFile } from './exec.js';
import type { ConnectOptions, Connection, ExecResult, ExecStreams, Transport, TransportTarget } from './transport.js';

/** The server presented a different host key than the one pinned at first contact: never retried. */
export class HostKeyMismatch extends SystemFailure {
  constructor(target: TransportTarget, presented: string) {
    super(
      `the SSH host key of ${target.host}:${target.port} changed since first contact ` +
        `(pinned ${shortKey(target.hostKey ?? '')}, presented ${shortKey(presented)}); refusing to connect`,
    );
    this.name = 'HostKeyMismatch';
  }
}

/** Connecting failed for a reason that may go away (sshd not up yet, network blip). */
export class SshConnectError extends SystemFailure {
  constructor(target: TransportTarget, reason: string, options?: { cause?: unknown }) {
    super(`SSH connection to ${target.username}@${target.host}:${target.port} failed: ${reason}`, options);
    this.name = 'SshConnectError';
  }
}

function shortKey(base64: string): string {
  return base64.length > 24 ? `…${base64.slice(-16)}` : base64 || '(none)';
}

/** SSH over ssh2, public-key auth only, host key pinned. */
export const sshTransport: Transport = {
  connect: (target, options) => connectSsh(target, options ?? {}),
};

function connectSsh(target: TransportTarget, options: ConnectOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let presented: string | undefined;
    let mismatch = false;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    };
    client.once('ready', () => {
      settled = true;
      resolve(new SshConnection(client, presented ?? '', options.shared ?? false));
    });
    client.on('error', (error: Error & { level?: string }) => {
      if (mismatch && presented !== undefined) {
        fail(new HostKeyMismatch(target, presented));
      } else {
        fail(new SshConnectError(target, describeConnectError(error), { cause: error }));
      }
    });
    client.once('close', () => fail(new SshConnectError(target, 'the server closed the connection during the handshake')));
    const config = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      // Straight to the job key: ssh2's default first tries "none", one more round trip to sshd on every stage.
      authHandler: [{ type: 'publickey' as const, username: target.username, key: target.privateKey }],
      readyTimeout: options.timeoutMs ?? 20_000,
      // Detects a task that vanished mid-stage instead of hanging until the runner's timeout.
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 4,
      hostVerifier: (key: Buffer): boolean => {
        presented = key.toString('base64');
        if (target.hostKey !== undefined && target.hostKey !== presented) {
          mismatch = true;
          return false;
        }
        return true;
      },
    };
    try {
      client.connect(config);
      // Without TCP_NODELAY, every SSH message written right after another waits for the peer's delayed ACK
      // (Nagle, ~40 ms on Linux): four such waits made up half of each stage's time. Measured in the README.
      client.setNoDelay(true);
    } catch (error) {
      // ssh2 throws synchronously for a key it cannot parse: a damaged state file, not a network problem.
      settled = true;
      reject(new SystemFailure(`the job's SSH key is unusable (${messageOf(error)}); the state file may be damaged`, { cause: error }));
    }
  });
}

function describeConnectError(error: Error & { code?: string; level?: string }): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (sshd not listening yet, or the port is wrong)';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${error.code} (check the security group allows the SSH port from the runner, and the subnet's routes)`;
    default:
      break;
  }
  if (error.level === 'client-authentication') {
    return 'the server refused the job key (authorized_keys not written from SSH_PUBLIC_KEY, or wrong [SSH] Username)';
  }
  if (error.level === 'client-timeout') {
    return 'timed out waiting for the SSH handshake';
  }
  return error.message;
}

class SshConnection implements Connection {
  private readonly ended: Promise<void>;

  constructor(
    private readonly client: ssh2.Client,
    readonly hostKey: string,
    private readonly shared: boolean,
  ) {
    this.ended = new Promise((resolve) => client.once('close', () => resolve()));
  }

  exec(command: string, streams: ExecStreams): Promise<ExecResult> {
    const pidFile = `/tmp/.gitlab-fargate-${randomBytes(8).toString('hex')}.pid`;
    return new Promise((resolve, reject) => {
      this.client.exec(withPidFile(command, pidFile), (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(new SystemFailure(`cannot start the remote command: ${messageOf(error)}`, { cause: error }));
          return;
        }
        const killGroup = (signal: string): void => {
          this.client.exec(killCommand(pidFile, signal), (killError: Error | undefined, side: ClientChannel) => {
            if (killError) return;
            side.resume();
            side.stderr.resume();
            side.end();
          });
        };
        // Given up on after a cancel: a connection of its own goes with it; a shared one keeps serving the others.
        const abandon = this.shared ? () => {} : () => this.client.end();
        execOnChannel(channel, streams, abandon, killGroup).then(resolve, reject);
      });
    });
  }

  onClose(listener: () => void): void {
    void this.ended.then(listener);
  }

  close(): void {
    this.client.end();
  }
}

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
