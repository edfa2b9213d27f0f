import { existsSync, rmSync, writeSync } from 'node:fs';
import { deferred } from '../../deferred.js';
import { SystemFailure, messageOf } from '../../errors.js';
import { sshTargetOf } from '../target.js';
import type { Connection, Transport } from '../transport.js';
import { ERROR_PREFIX, GO_LINE, LISTENING_PREFIX, firstLine } from './handshake.js';
import { MUX_COMMAND, type MuxSpec } from './protocol.js';
import type { DriverMain } from '../../stages/cleanup-route.js';
import type { ReadMuxTaskState } from './record.js';
import type { MuxCleanupRunner, MuxServer, MuxServerOptions, serveMultiplexed } from './server.js';
import { removeMuxSocket } from './socket.js';

/** How often the multiplexer checks that its job's state file still exists. */
const STATE_CHECK_INTERVAL_MS = 5_000;

/**
 * The multiplexer process itself: listens on its socket, reports `listening PID` (or `error: WHY`) on stdout, waits
 * for prepare's go, then connects to the task with the job key and the pinned host key and serves `run` stages, and
 * the native client's cleanup. It exits when the task's connection ends, when idle, when its job's state file
 * disappears (cleanup ran), after the cleanup it ran (once that finished, whatever stopped it), on SIGTERM, or when it
 * cannot connect (commands waiting then hear "unavailable" and connect on their own).
 *
 * @param readState reads the job's state file at `spec.statePath` (the caller owns its format)
 * @param driverMain the driver's `main`, which runs the native client's cleanup
 * @returns the process exit code
 */
export async function runMultiplexerProcess(
  specJson: string | undefined,
  readState: ReadMuxTaskState,
  driverMain: DriverMain,
): Promise<number> {
  const spec = parseSpec(specJson);
  if (spec === undefined) {
    process.stderr.write(`${MUX_COMMAND} is started by 'custom prepare', not by hand\n`);
    return 2;
  }
  // The process's own entry: it wires in the job-aware router of run stages (stages/ composes job/ and ssh/).
  const [{ sshTransport }, { serveMultiplexed }, { stageRouter }, cleanupRoute] = await Promise.all([
    import('../connect.js'),
    import('./server.js'),
    import('../../stages/run-route.js'),
    import('../../stages/cleanup-route.js'),
  ]);
  process.umask(0o077); // The socket: only this user may run commands in the job container.
  const connecting = deferred<Connection>();
  const stopped = deferred<string>();
  const { connectTimeoutMs: timeoutMs, keepaliveIntervalMs, keepaliveCountMax } = spec;
  const connectOptions = { timeoutMs, keepaliveIntervalMs, keepaliveCountMax };
  const router = stageRouter({ statePath: spec.statePath, transport: sshTransport, connectOptions });
  const cleanup = trackCleanup((request, output) => cleanupRoute.runCleanupRequest(driverMain, request, output));
  const how = { onStop: stopped.resolve, route: router.route, cleanup: cleanup.run };
  const server = await listen(serveMultiplexed, connecting.promise, spec, how);
  if (server === undefined) return 1;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => server.stop(`got ${signal}`));
  report(`${LISTENING_PREFIX}${process.pid}`);
  router.preload(); // while the task starts: nothing waits on this process yet
  cleanupRoute.preloadCleanupModules();

  if (await goAhead()) {
    const connection = connectToTask(sshTransport, readState, spec);
    connection.then(connecting.resolve, connecting.reject);
    // Commands that waited hear "unavailable" from the server; then there is nothing left to serve.
    connection.catch((error: unknown) => server.stop(`cannot connect: ${messageOf(error)}`, { graceful: true }));
  } else {
    server.stop('prepare ended without the go');
  }
  const stateCheck = setInterval(() => {
    // The cleanup removes it itself, and must not be cut short by it.
    if (!cleanup.started() && !existsSync(spec.statePath)) server.stop('the job state file is gone');
  }, STATE_CHECK_INTERVAL_MS);
  await stopped.promise;
  clearInterval(stateCheck);
  router.close();
  removeMuxSocket(spec.socketPath);
  await cleanup.finished(); // a task being stopped is stopped before this process ends
  return 0;
}

/** The cleanup this multiplexer runs, if any: whether it started, and its end (never rejected). */
function trackCleanup(runner: MuxCleanupRunner): {
  readonly run: MuxCleanupRunner;
  started(): boolean;
  finished(): Promise<void>;
} {
  let running: Promise<unknown> | undefined;
  return {
    run: (request, output) => {
      const run = runner(request, output);
      running ??= run?.catch(() => {});
      return run;
    },
    started: () => running !== undefined,
    finished: async () => {
      await running;
    },
  };
}

/** The spec prepare put on the command line; `undefined` when there is none (started by hand). */
function parseSpec(specJson: string | undefined): MuxSpec | undefined {
  try {
    return JSON.parse(specJson ?? '') as MuxSpec;
  } catch {
    return undefined;
  }
}

/** A line to prepare, which reads our stdout until the first line. */
function report(line: string): void {
  try {
    writeSync(1, `${line}\n`);
  } catch {
    // prepare gave up on us; the checks in runMultiplexerProcess still end this process.
  }
}

/** Serves on the spec's socket; `undefined` once the reason it cannot was reported. */
async function listen(
  serve: typeof serveMultiplexed,
  connecting: Promise<Connection>,
  spec: MuxSpec,
  how: Pick<MuxServerOptions, 'onStop' | 'route' | 'cleanup'>,
): Promise<MuxServer | undefined> {
  try {
    rmSync(spec.socketPath, { force: true });
    return await serve(connecting, spec.socketPath, { idleTimeoutMs: spec.idleTimeoutMs, ...how });
  } catch (error) {
    report(`${ERROR_PREFIX}cannot listen on ${spec.socketPath}: ${messageOf(error)}`);
    return undefined;
  }
}

/** True once prepare writes its go line; false when prepare closed our stdin without one (it failed or died). */
async function goAhead(): Promise<boolean> {
  return (await firstLine(process.stdin)) === GO_LINE;
}

/**
 * The one SSH connection every command shares, to the target the job state names (read now: prepare wrote the
 * address and the pinned host key before its go).
 */
async function connectToTask(transport: Transport, readState: ReadMuxTaskState, spec: MuxSpec): Promise<Connection> {
  const state = readState(spec.statePath);
  const target = state === undefined ? undefined : sshTargetOf(state);
  if (target === undefined) throw new SystemFailure(`the job state ${spec.statePath} has no reachable task`);
  const { connectTimeoutMs: timeoutMs, keepaliveIntervalMs, keepaliveCountMax } = spec;
  return transport.connect(target, { timeoutMs, keepaliveIntervalMs, keepaliveCountMax, shared: true });
}
