import { existsSync, rmSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SystemFailure, messageOf } from '../../errors.js';
import type { Connection } from '../transport.js';
import { MUX_COMMAND, type MuxSpec } from './protocol.js';
import type { ReadMuxTaskState } from './record.js';
import type { MuxServer } from './server.js';
import { removeMuxSocket } from './socket.js';

/** How often the multiplexer checks that its job's state file still exists. */
const STATE_CHECK_INTERVAL_MS = 5_000;

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
