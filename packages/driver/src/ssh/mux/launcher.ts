import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SystemFailure } from '../../errors.js';
import { ERROR_PREFIX, GO_LINE, LISTENING_PREFIX, firstLine } from './handshake.js';
import { MUX_COMMAND, type MuxSpec } from './protocol.js';
import type { MuxRecord } from './record.js';
import { removeMuxSocket } from './socket.js';

/** Stop serving after this long without a command: longer than any gap between two stages of a job. */
export const MUX_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

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
  const ready = child.stdout === null ? Promise.resolve(undefined) : firstLine(child.stdout);
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
      const line = await Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
      if (line === 'timeout') {
        abort();
        throw new SystemFailure(`the SSH multiplexer did not start within ${Math.round(timeoutMs / 1000)} s`);
      }
      if (line === undefined || !line.startsWith(LISTENING_PREFIX)) {
        abort();
        const why = line?.startsWith(ERROR_PREFIX) ? line.slice(ERROR_PREFIX.length) : line;
        throw new SystemFailure(why ?? `the SSH multiplexer exited (code ${child.exitCode ?? child.signalCode})`);
      }
      child.stdin?.end(`${GO_LINE}\n`);
      release(child);
      return { pid: Number(line.slice(LISTENING_PREFIX.length)), socket: spec.socketPath };
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
 * (its command line names the socket), never a process that reused the number, and never this process: the
 * multiplexer running the job's cleanup itself has stopped serving already and exits once the cleanup answered.
 */
export function stopMultiplexer(record: MuxRecord): void {
  try {
    if (record.pid === process.pid) return removeMuxSocket(record.socket);
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
