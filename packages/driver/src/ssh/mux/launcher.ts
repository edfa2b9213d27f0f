import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { SystemFailure, messageOf } from '../../errors.js';
import { MUX_COMMAND } from './protocol.js';
import type { MuxRecord, ReadMuxTaskState } from './record.js';
import type { MuxServer } from './server.js';
import type { Connection } from '../transport.js';

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

/** Stop serving after this long without a command: longer than any gap between two stages of a job. */
export const MUX_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** How often the multiplexer checks that its job's state file still exists. */
const STATE_CHECK_INTERVAL_MS = 5_000;
/** Unix socket paths longer than this do not fit `sockaddr_un` (108 bytes with the terminator, 104 on BSD). */
const MAX_SOCKET_PATH_BYTES = 100;

/**
 * The only variables the multiplexer gets from the stage that starts it. The stage's environment holds every job
 * variable (`CUSTOM_ENV_*`, the job token) and the runner's own secrets (AWS credentials), and the multiplexer
 * outlives the stage by up to {@link MUX_IDLE_TIMEOUT_MS}: it needs none of them. Its spec comes on its command line,
 * the job key from the state file, and Node needs no variable to start from an absolute path; `PATH` is kept for
 * anything that looks up a program.
 */
export const MUX_ENVIRONMENT = ['PATH'] as const;

/** The multiplexer's environment: {@link MUX_ENVIRONMENT} taken from `env`, nothing else. */
export function multiplexerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(MUX_ENVIRONMENT.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

/** Prefix of the private folders made for sockets whose path beside the state file would be too long. */
const SOCKET_FOLDER_PREFIX = 'gitlab-fargate-mux-';

/**
 * The socket beside the job's state file (in its 0700 directory), or, when that path is too long for a socket, in
 * a fresh 0700 folder of the temp directory (never a guessable name there: another user could bind it first).
 */
export function muxSocketPath(statePath: string): string {
  const beside = statePath.replace(/\.json$/, '') + '.sock';
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH_BYTES) return beside;
  return join(mkdtempSync(join(tmpdir(), SOCKET_FOLDER_PREFIX)), 'mux.sock');
}

/** Removes a multiplexer's socket, and the private folder {@link muxSocketPath} made for it, if any. */
export function removeMuxSocket(socketPath: string): void {
  rmSync(socketPath, { force: true });
  const folder = dirname(socketPath);
  if (basename(folder).startsWith(SOCKET_FOLDER_PREFIX)) rmSync(folder, { recursive: true, force: true });
}

/** A multiplexer process that has started and waits to be told the task is ready. */
export interface PendingMultiplexer {
  /**
   * Waits until its socket listens, then tells it to connect (the state file must have the address and the host
   * key by now) and lets it go: `run` stages may use the socket at once, their commands wait for the connection.
   *
   * @throws SystemFailure when it did not come up within `timeoutMs` (it is stopped then)
   */
  connect(timeoutMs: number): Promise<MuxRecord>;
  /** Stops it, whatever state it is in. */
  abort(): void;
}

/**
 * Starts the job's multiplexer process early, while the task is still starting, so its Node start-up and module
 * loading overlap the wait. It runs detached from the stage (its own session) and exits when its stdin closes
 * without the go line, so a prepare that fails or dies leaves nothing.
 */
export function launchMultiplexer(driverEntry: string, spec: MuxSpec): PendingMultiplexer {
  const child = spawn(process.execPath, [driverEntry, MUX_COMMAND, JSON.stringify(spec)], {
    detached: true,
    env: multiplexerEnvironment(process.env),
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  const firstLine = new Promise<string | undefined>((resolve) => {
    if (child.stdout === null) return resolve(undefined);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      resolve(line); // first: close() below emits 'close' at once
      lines.close();
    });
    lines.once('close', () => resolve(undefined));
  });
  const abort = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    release(child);
    removeMuxSocket(spec.socketPath);
  };
  return {
    abort,
    connect: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const line = await Promise.race([firstLine, timeout]).finally(() => clearTimeout(timer));
      if (line === 'timeout') {
        abort();
        throw new SystemFailure(`the SSH multiplexer did not start within ${Math.round(timeoutMs / 1000)} s`);
      }
      if (line === undefined || !line.startsWith('listening ')) {
        abort();
        throw new SystemFailure(line?.replace(/^error: /, '') ?? `the SSH multiplexer exited (code ${child.exitCode ?? child.signalCode})`);
      }
      child.stdin?.end('connect\n');
      release(child);
      return { pid: Number(line.slice('listening '.length)), socket: spec.socketPath };
    },
  };
}

/** Lets the stage exit while the multiplexer lives on. */
function release(child: ChildProcess): void {
  child.stdout?.destroy();
  child.unref();
}

/**
 * Stops a job's multiplexer and removes its socket. The pid is only signalled while it is still that multiplexer
 * (its command line names the socket), never a process that reused the number.
 */
export function stopMultiplexer(record: MuxRecord): void {
  try {
    const commandLine = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    // The socket path sits inside the JSON spec on the command line, escaped as JSON.
    if (commandLine.includes(MUX_COMMAND) && commandLine.includes(JSON.stringify(record.socket).slice(1, -1))) {
      process.kill(record.pid, 'SIGTERM');
    }
  } catch {
    // Already gone (or no /proc): it exits by itself once the state file is removed.
  }
  removeMuxSocket(record.socket);
}

/**
 * The multiplexer process itself: listens on its socket, reports `listening PID` (or `error: WHY`) on stdout, waits
 * for prepare's go, then connects to the task with the job key and the pinned host key and serves `run` stages. It
 * exits when the task's connection ends, when idle, when its job's state file disappears (cleanup ran), on SIGTERM,
 * or when it cannot connect (commands waiting then hear "unavailable" and connect on their own).
 *
 * @param readState reads the job's state file at `spec.statePath` (the caller owns its format)
 * @returns the process exit code
 */
export async function runMultiplexerProcess(specJson: string | undefined, readState: ReadMuxTaskState): Promise<number> {
  let spec: MuxSpec;
  try {
    spec = JSON.parse(specJson ?? '') as MuxSpec;
  } catch {
    process.stderr.write(`${MUX_COMMAND} is started by 'custom prepare', not by hand\n`);
    return 2;
  }
  const report = (line: string): void => {
    try {
      writeSync(1, `${line}\n`);
    } catch {
      // prepare gave up on us; the checks below still end this process.
    }
  };
  const [{ sshTransport }, { serveMultiplexed }] = await Promise.all([import('../connect.js'), import('./server.js')]);

  process.umask(0o077); // The socket: only this user may run commands in the job container.
  let go: (connection: Promise<Connection>) => void = () => {};
  const connecting = new Promise<Connection>((resolve, reject) => {
    go = (connection) => connection.then(resolve, reject);
  });
  let stopped: (reason: string) => void = () => {};
  const whenStopped = new Promise<string>((resolve) => {
    stopped = resolve;
  });
  let server: MuxServer;
  try {
    rmSync(spec.socketPath, { force: true });
    server = await serveMultiplexed(connecting, spec.socketPath, { idleTimeoutMs: spec.idleTimeoutMs, onStop: stopped });
  } catch (error) {
    report(`error: cannot listen on ${spec.socketPath}: ${messageOf(error)}`);
    return 1;
  }
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => server.stop(`got ${signal}`));
  report(`listening ${process.pid}`);

  if (await goAhead()) {
    const connection = (async () => {
      const state = readState(spec.statePath);
      if (state?.address === undefined || state.hostKey === undefined) {
        throw new SystemFailure(`the job state ${spec.statePath} has no reachable task`);
      }
      return sshTransport.connect(
        { host: state.address, port: state.port, username: state.username, privateKey: state.privateKey, hostKey: state.hostKey },
        {
          timeoutMs: spec.connectTimeoutMs,
          keepaliveIntervalMs: spec.keepaliveIntervalMs,
          keepaliveCountMax: spec.keepaliveCountMax,
          shared: true,
        },
      );
    })();
    go(connection);
    // Commands that waited hear "unavailable" from the server; then there is nothing left to serve.
    connection.catch((error: unknown) => server.stop(`cannot connect: ${messageOf(error)}`, { graceful: true }));
  } else {
    server.stop('prepare ended without the go');
  }
  const stateCheck = setInterval(() => {
    if (!existsSync(spec.statePath)) server.stop('the job state file is gone');
  }, STATE_CHECK_INTERVAL_MS);
  await whenStopped;
  clearInterval(stateCheck);
  removeMuxSocket(spec.socketPath);
  return 0;
}

/** True once prepare writes its go line; false when prepare closed our stdin without one (it failed or died). */
function goAhead(): Promise<boolean> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.once('line', (line) => {
      resolve(line === 'connect'); // first: close() below emits 'close' at once
      lines.close();
    });
    lines.once('close', () => resolve(false));
  });
}
