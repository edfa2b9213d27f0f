import type { Writable } from 'node:stream';
import { parseArgs } from '../args.js';
import type { LogSink } from '../log.js';
import type { MainIo } from '../main.js';
import type { MuxCleanupRequest } from '../ssh/mux/protocol.js';
import type { MuxOutput } from '../ssh/mux/server.js';

/** The driver's `main` (src/main.ts), handed down by the multiplexer's process: it imports this module. */
export type DriverMain = (io: MainIo) => Promise<number>;

/**
 * How the job's multiplexer runs the native client's `custom cleanup` (`native/run-client.c`): the driver's own
 * `main` with the client's arguments, environment and working directory, so it is the one cleanup there is
 * (`cleanupStage`: the multiplexer's stop, StopTask under its deadline, the pool claims, the job's metrics, the state
 * file's removal), with the same log, output and exit code; only the process is saved, and the modules were loaded
 * while the job ran ({@link preloadCleanupModules}).
 *
 * @returns the exit code, or `undefined` when the arguments are not a cleanup (nothing runs: the client falls back)
 */
export function runCleanupRequest(main: DriverMain, request: MuxCleanupRequest, output: MuxOutput): Promise<number> | undefined {
  if (!isCleanupCommand(request.argv)) return undefined;
  return runDriverCleanup(main, request, output);
}

/** True when the driver would read these arguments as `custom cleanup` (with its global flags). */
function isCleanupCommand(argv: readonly string[]): boolean {
  try {
    const { command } = parseArgs(argv);
    return command.kind === 'stage' && command.stage === 'cleanup';
  } catch {
    return false;
  }
}

async function runDriverCleanup(main: DriverMain, request: MuxCleanupRequest, output: MuxOutput): Promise<number> {
  // Nothing runs before this tick ends: the session's Started frame goes out first.
  await Promise.resolve();
  // The multiplexer was started with PATH alone (launcher.ts); the AWS SDK reads its credentials, Region and
  // endpoints from the process environment, as the Node cleanup's process would from the runner. The process
  // ends after this cleanup.
  replaceProcessEnvironment(request.env);
  return main({
    argv: request.argv,
    env: { ...request.env },
    cwd: request.cwd,
    stdout: output.stdout,
    stderr: output.stderr,
    stdoutFd: 1,
    stderrFd: 2,
    logSinks: { stdout: streamSink(output.stdout), stderr: streamSink(output.stderr) },
    // Cleanup ignores cancellation (it exists to free the task); the client never forwards one.
    signal: new AbortController().signal,
  });
}

function replaceProcessEnvironment(env: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
}

function streamSink(stream: Writable): LogSink {
  return { write: (line) => void stream.write(line) };
}

let cleanupModules: Promise<unknown> | undefined;

/**
 * Loads what the cleanup needs (the cleanup stage with the AWS SDK, the driver TOML's parser), once: called while the
 * multiplexer waits for its task, so that the cleanup costs no module loading.
 */
export function preloadCleanupModules(): void {
  cleanupModules ??= Promise.all([import('./cleanup.js'), import('@gitlab-fargate/config')]).catch(() => {});
}
