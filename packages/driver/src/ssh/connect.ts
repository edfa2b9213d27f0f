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
      resolve(new SshConnection(client, presented ?? ''));
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
  constructor(
    private readonly client: ssh2.Client,
    readonly hostKey: string,
  ) {}

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
        execOnChannel(channel, streams, () => this.client.end(), killGroup).then(resolve, reject);
      });
    });
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

/**
 * Readiness probe: connects until the SSH handshake and key authentication succeed (RUNNING in ECS says nothing
 * about sshd). A changed host key is final; everything else is retried with backoff until the deadline.
 */
export async function waitUntilReachable(
  transport: Transport,
  target: TransportTarget,
  options: ReadinessOptions = {},
): Promise<Connection> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + (options.deadlineMs ?? 120_000);
  let delay = options.minDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    const remaining = deadline - now();
    try {
      return await transport.connect(target, {
        timeoutMs: Math.max(1_000, Math.min(options.attemptTimeoutMs ?? 10_000, remaining)),
      });
    } catch (error) {
      // Only connection trouble goes away by waiting; a changed host key or an unusable job key never does.
      const permanent = error instanceof SystemFailure && !(error instanceof SshConnectError);
      if (permanent || !(error instanceof Error)) throw error;
      options.onRetry?.(attempt, error);
      if (now() + delay >= deadline) {
        throw new SystemFailure(
          `the job container did not accept SSH within ${Math.round((options.deadlineMs ?? 120_000) / 1000)} s ` +
            `(${attempt} attempts); last error: ${error.message}`,
          { cause: error },
        );
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  }
}
