import { randomBytes } from 'node:crypto';
import { SSH_PUBLIC_KEY_VARIABLE } from '@gitlab-fargate/config';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { SystemFailure, messageOf } from '../errors.js';
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
    return `the server refused the job key (authorized_keys not written from ${SSH_PUBLIC_KEY_VARIABLE}, or wrong [SSH] Username)`;
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
