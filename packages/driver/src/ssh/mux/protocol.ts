import type { Socket } from 'node:net';

/**
 * How the parts of the job's SSH multiplexer talk: the command line that starts its process (launcher.ts starts
 * main.ts), and the framing between `run` stages (client.ts) and the multiplexer (server.ts) over a Unix socket. Each
 * frame is one type byte, a 4-byte big-endian payload length, and the payload. Kept free of ssh2 so a `run` stage
 * that talks to the multiplexer never loads it.
 */

/**
 * The driver's hidden command that runs a job's multiplexer: `gitlab-fargate-driver internal-ssh-mux SPEC_JSON`.
 * Started by prepare only; not for people.
 */
export const MUX_COMMAND = 'internal-ssh-mux';

/**
 * The variables the config stage hands to every later stage through gitlab-runner's `job_env` for the native run
 * client (`native/run-client.c`, which names them too; a test checks they match): the job's multiplexer socket, and
 * the Node driver it falls back to (the Node binary and the driver's script that answered `config`).
 */
export const NATIVE_CLIENT_ENV = {
  socket: 'GITLAB_FARGATE_MUX_SOCKET',
  node: 'GITLAB_FARGATE_NODE',
  driverScript: 'GITLAB_FARGATE_DRIVER_SCRIPT',
} as const;

/** What the multiplexer process is told on its command line. */
export interface MuxSpec {
  readonly statePath: string;
  readonly socketPath: string;
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  /** Exit after this long without a command. */
  readonly idleTimeoutMs: number;
}

/** Frame types. Client → multiplexer: request, stdin, stdin end, cancel. Multiplexer → client: the rest. */
export const FrameType = {
  /** JSON {@link MuxRequest}: the command to run; exactly once, first. */
  Request: 1,
  /** A chunk of the command's stdin. */
  Stdin: 2,
  /** The command's stdin is complete. */
  StdinEnd: 3,
  /** The client was cancelled: forward the request's signal to the command. */
  Cancel: 4,
  /**
   * JSON {@link MuxCleanupRequest}, instead of a Request: run the job's `custom cleanup` in the multiplexer, which
   * then stops. Answered with Started, the stage's Stdout/Stderr, and a Result `{ exitCode }`; Unavailable when it
   * cannot (nothing ran: the client runs the Node cleanup).
   */
  Cleanup: 5,
  Stdout: 11,
  Stderr: 12,
  /** JSON `ExecResult`; the last frame of a command that ran. */
  Result: 13,
  /** JSON `{ message }`: the command could not be started; the last frame. */
  Error: 14,
  /** JSON `{ message }`: the multiplexer has no SSH connection, nothing ran: connect on your own. The last frame. */
  Unavailable: 15,
  /** The command is being started: from here on, a connection that ends means its outcome is lost, not "nothing ran". */
  Started: 16,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** What the client asks the multiplexer to run. */
export interface MuxRequest {
  /**
   * A `run` stage's name (gitlab-runner's STAGE argument): the multiplexer then picks the command and the container
   * itself from the job's state (`stageExecution`), records the stage's outcome in the state file, and adds a
   * {@link StageVerdict} to its Result. What both run clients send: the Node stage and the native client.
   * @default - none: run {@link command} in the helper, record nothing
   */
  readonly stage?: string;
  /** The command to run in the helper when the request names no stage (tests, tools). @default '' */
  readonly command?: string;
  /**
   * The driver TOML the stage was given, absolute: with it, the multiplexer ends the last stage
   * (`cleanup_file_variables`) with the job's timeline and cost (its pricing settings), as the Node stage does.
   * @default - none: the client prints the summary itself (the Node stage)
   */
  readonly configPath?: string;
  /** Signal forwarded on cancel, without `SIG`. */
  readonly forwardSignal: string;
  /** How long the multiplexer waits for the command after forwarding the signal. */
  readonly graceMs: number;
}

/**
 * The native client's `custom cleanup` invocation, which the multiplexer runs as the driver would (the driver's
 * `main`, so the same cleanup with the same log, output and exit code): its arguments (without the program), its
 * environment (the AWS credentials, the job's variables, the runner's exit codes: the multiplexer itself was started
 * without them) and its working directory.
 */
export interface MuxCleanupRequest {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /**
   * When the client sent it, in ms of CLOCK_MONOTONIC (`process.hrtime`): the client gives up waiting for Started
   * after 10 s and cleans up itself, so a request read late is answered Unavailable ({@link CLEANUP_ACCEPT_MS}).
   * @default - not checked
   */
  readonly sentAtMs?: number;
}

/** How old a cleanup request the multiplexer still runs: half the native client's wait for Started (its CLEANUP_START_MS). */
export const CLEANUP_ACCEPT_MS = 5_000;

/** The Result of a cleanup request: the exit code the driver's cleanup returned. */
export interface MuxCleanupResult {
  readonly exitCode: number;
}

/**
 * What the multiplexer adds to the Result of a stage request (after the `ExecResult` fields), so that a client
 * without the driver's modules (the native one) exits as the Node stage would: `scriptExitCode` when the stage is the
 * script's failure (`$BUILD_FAILURE_EXIT_CODE`, the code into `$BUILD_EXIT_CODE_FILE`), `message` when it is a system
 * failure. Neither on success. A cancel is the client's own to report.
 */
export interface StageVerdict {
  readonly scriptExitCode?: number;
  readonly message?: string;
}

const HEADER_BYTES = 5;
/** Larger frames are a protocol error: nobody sends more than a stream chunk at once. */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** One frame, ready to write. */
export function encodeFrame(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/**
 * Returns a function to feed with the bytes read from a socket; it calls `onFrame` once per complete frame, in
 * order, and throws on a frame no peer of ours would send.
 */
export function frameReader(onFrame: (type: FrameType, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= HEADER_BYTES) {
      const length = pending.readUInt32BE(1);
      if (length > MAX_PAYLOAD_BYTES) throw new Error(`multiplexer frame of ${length} bytes is larger than ${MAX_PAYLOAD_BYTES}`);
      if (pending.length < HEADER_BYTES + length) return;
      const type = pending.readUInt8(0) as FrameType;
      const payload = pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
      pending = pending.subarray(HEADER_BYTES + length);
      onFrame(type, payload);
    }
  };
}

/**
 * Feeds every frame arriving on `socket` to `onFrame`; a malformed stream (or an `onFrame` that throws) destroys the
 * socket. Socket errors end in its 'close', which the caller handles.
 */
export function readFrames(socket: Socket, onFrame: (type: FrameType, payload: Buffer) => void): void {
  const read = frameReader(onFrame);
  socket.on('data', (chunk: Buffer) => {
    try {
      read(chunk);
    } catch (error) {
      socket.destroy(error as Error);
    }
  });
  socket.on('error', () => {});
}
