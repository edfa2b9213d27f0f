import { spawn } from 'node:child_process';

/** How one driver call is made and bounded. */
export interface DriverCallOptions {
  readonly executable: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Deadline for the call, in ms (a `*_exec_timeout`); then the kill sequence starts.
   * @default - none: only `signal` stops the call (run stages)
   */
  readonly timeoutMs?: number;
  /** Wait after SIGTERM before SIGKILL, in ms (`graceful_kill_timeout`). */
  readonly gracefulKillMs: number;
  /** Wait after SIGKILL before giving up on the process, in ms (`force_kill_timeout`). */
  readonly forceKillMs: number;
  /** Stops the call like a timeout does: the job's deadline, the prepare timeout or a cancel. */
  readonly signal?: AbortSignal;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

/** How a driver call ended. */
export interface DriverCallResult {
  /** The exit code, or null when the process died of a signal or was abandoned. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why the harness stopped the process, if it did. */
  readonly stoppedBy?: 'timeout' | 'cancel';
  /** The process outlived SIGKILL plus `forceKillMs` and was left behind, as gitlab-runner does. */
  readonly abandoned: boolean;
  readonly durationMs: number;
}

/**
 * Runs a driver executable in its own process group, the way gitlab-runner does, so that termination reaches
 * the driver and everything it started: SIGTERM to the group, then SIGKILL after the graceful timeout.
 */
export function callDriver(options: DriverCallOptions): Promise<DriverCallResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(options.executable, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stoppedBy: DriverCallResult['stoppedBy'];
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (result: Omit<DriverCallResult, 'durationMs' | 'stoppedBy'>) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, ...(stoppedBy ? { stoppedBy } : {}), durationMs: performance.now() - started });
    };
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // The group is gone already: nothing left to signal.
      }
    };
    const terminate = (reason: 'timeout' | 'cancel') => {
      if (stoppedBy || settled) return;
      stoppedBy = reason;
      signalGroup('SIGTERM');
      timers.push(
        setTimeout(() => {
          signalGroup('SIGKILL');
          timers.push(setTimeout(() => finish({ exitCode: null, signal: null, abandoned: true }), options.forceKillMs));
        }, options.gracefulKillMs),
      );
    };
    const onAbort = () => terminate('cancel');

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      reject(new Error(
        `cannot start ${options.executable}: ${error.code ?? error.message} ` +
          '(check the *_exec paths in [runners.custom] of config.toml: each must exist and be executable)',
      ));
    });
    child.stdout.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
    child.stderr.on('data', (chunk: Buffer) => options.onStderr?.(chunk));
    // 'close' waits for the output pipes, so nothing the driver wrote is lost.
    child.once('close', (exitCode, signal) => finish({ exitCode, signal, abandoned: false }));

    if (options.timeoutMs !== undefined) timers.push(setTimeout(() => terminate('timeout'), options.timeoutMs));
    if (options.signal?.aborted) terminate('cancel');
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
