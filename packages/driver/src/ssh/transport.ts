import type { Readable, Writable } from 'node:stream';

/** Where and as whom to connect. */
export interface TransportTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** OpenSSH-format private key. */
  readonly privateKey: string;
  /**
   * The host key pinned at first contact (base64 of the key blob). When set, any other key is refused; when
   * absent, the key seen is accepted and reported as {@link Connection.hostKey} so the caller can pin it.
   */
  readonly hostKey?: string;
}

/** Streams of one remote command. */
export interface ExecStreams {
  /** Sent to the remote command's stdin, then EOF. */
  readonly stdin: Readable | Buffer | string;
  /** Receives the remote stdout as it comes (not ended by the transport). */
  readonly stdout: Writable;
  /** Receives the remote stderr as it comes (not ended by the transport). */
  readonly stderr: Writable;
  /**
   * Aborting forwards `forwardSignal` to the remote process and waits up to `graceMs` for it to exit; then it gets
   * SIGKILL, and one that outlives even that is given up on (its channel closed) a second later.
   */
  readonly cancel?: AbortSignal;
  /** @default 'TERM' */
  readonly forwardSignal?: string;
  /** @default 10_000 */
  readonly graceMs?: number;
}

/** How a remote command ended. */
export interface ExecResult {
  /** Exit status, when the remote process exited normally. */
  readonly exitCode?: number;
  /** Signal name (without `SIG`), when the remote process was killed by one. */
  readonly signal?: string;
  /** Whether {@link ExecStreams.cancel} fired while the command ran. */
  readonly cancelled: boolean;
  /** The connection ended without an exit status (remote side vanished, or gave up after a cancel). */
  readonly lost: boolean;
}

/** An open connection to the job container. */
export interface Connection {
  /** The host key the server presented (base64 of the key blob). */
  readonly hostKey: string;
  /** Runs `command` with the given streams; resolves when the remote side is done. */
  exec(command: string, streams: ExecStreams): Promise<ExecResult>;
  /** Calls `listener` once the connection has ended, for whatever reason. */
  onClose(listener: () => void): void;
  close(): void;
}

/**
 * A way to reach the job container. SSH today; ECS Exec or a second container per task are the likely next ones,
 * so the stages speak only this interface.
 */
export interface Transport {
  connect(target: TransportTarget, options?: ConnectOptions): Promise<Connection>;
}

/** Timing of one connection. */
export interface ConnectOptions {
  /** TCP connect plus handshake. @default 20_000 */
  readonly timeoutMs?: number;
  /** Keepalive period while connected; 0 disables. @default 15_000 */
  readonly keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection counts as dead. @default 4 */
  readonly keepaliveCountMax?: number;
  /**
   * The connection serves several commands one after another or at once (the job's multiplexer): a command that
   * does not exit within its grace period after a cancel only loses its channel, not the whole connection.
   * @default false
   */
  readonly shared?: boolean;
}
