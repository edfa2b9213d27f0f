import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { type JobState, writeState } from '../job/state.js';
import type { Logger } from '../log.js';
import { MUX_IDLE_TIMEOUT_MS, type PendingMultiplexer, launchMultiplexer } from '../ssh/mux/launcher.js';
import { muxSocketPath } from '../ssh/mux/socket.js';
import type { StageContext } from './context.js';

/** For the multiplexer's socket to listen, counted from readiness (it started when the task was known). */
const MUX_START_TIMEOUT_MS = 5_000;

/**
 * Starts the job's SSH multiplexer process when `[SSH] Multiplex` is on (and the driver's own script is known), as
 * early as prepare knows its task, so its start-up overlaps the wait; it connects once told to
 * ({@link handOverToMultiplexer}). @returns undefined when the run stages open a connection each
 */
export function startJobMultiplexer(ctx: StageContext, statePath: string): PendingMultiplexer | undefined {
  const { config } = ctx;
  if (!config.ssh.multiplex || ctx.driverEntry === undefined) return undefined;
  return launchMultiplexer(ctx.driverEntry, {
    statePath,
    socketPath: muxSocketPath(statePath),
    connectTimeoutMs: secondsToMs(config.ssh.connectTimeout),
    keepaliveIntervalMs: secondsToMs(config.ssh.keepaliveInterval),
    keepaliveCountMax: config.ssh.keepaliveCountMax,
    idleTimeoutMs: MUX_IDLE_TIMEOUT_MS,
  });
}

/**
 * Tells the multiplexer to connect (the state file must name the address and the pinned host key by now) and records
 * it in the state; without it, each stage opens its own connection.
 */
export async function handOverToMultiplexer(mux: PendingMultiplexer, state: JobState, statePath: string, log: Logger): Promise<JobState> {
  try {
    // Not waiting for its handshake: the first stage's own start-up overlaps it, and its command waits for it.
    const withMux = { ...state, mux: await mux.connect(MUX_START_TIMEOUT_MS) };
    writeState(statePath, withMux);
    log.debug('the run stages go through the job\'s SSH multiplexer', { pid: withMux.mux.pid, socket: withMux.mux.socket });
    return withMux;
  } catch (error) {
    log.warn(`each stage opens its own SSH connection: ${messageOf(error)}`);
    return state;
  }
}
