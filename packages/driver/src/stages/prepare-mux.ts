import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { type JobState, writeState } from '../job/state.js';
import type { Logger } from '../log.js';
import { MUX_IDLE_TIMEOUT_MS, type PendingMultiplexer, launchMultiplexer } from '../ssh/mux/launcher.js';
import { muxSocketPath } from '../ssh/mux/socket.js';
import type { StageContext } from './context.js';

/** For the multiplexer's socket to listen, counted from the handover (it was started earlier). */
const MUX_START_TIMEOUT_MS = 5_000;

/**
 * The job's SSH multiplexer process across prepare's attempts (`[SSH] Multiplex`, when the driver's own script is
 * known). One is started as early as prepare wants ({@link start}: at the stage's start when a warm task may serve the
 * job, else once RunTask returned), so its Node start-up overlaps the wait for the task. Until it is told to connect
 * it knows no task (it reads the state file only then), so a warm attempt that fails before {@link handOver} leaves it
 * to the next attempt or the cold path.
 */
export class JobMultiplexer {
  private pending: PendingMultiplexer | undefined;
  private connected: PendingMultiplexer | undefined;

  constructor(
    private readonly ctx: StageContext,
    private readonly statePath: string,
  ) {}

  /** Starts one unless one is waiting already (or the run stages open a connection each). */
  start(): void {
    this.pending ??= startJobMultiplexer(this.ctx, this.statePath);
  }

  /**
   * Tells the waiting multiplexer (started now if none) to connect to the task the state file names, and records it
   * there; without one, each stage opens its own connection. @returns the state, with the multiplexer when it listens
   */
  async handOver(state: JobState): Promise<JobState> {
    this.start();
    const mux = this.pending;
    if (mux === undefined) return state;
    this.pending = undefined;
    this.connected = mux;
    return handOverToMultiplexer(mux, state, this.statePath, this.ctx.log);
  }

  /**
   * The task it was handed failed (a warm task given back): stops the multiplexer connected to it, if any; one still
   * waiting stays for the next attempt.
   */
  abandonTask(): void {
    this.connected?.abort();
    this.connected = undefined;
  }

  /** Prepare failed: stops whichever multiplexer it started. */
  abort(): void {
    this.abandonTask();
    this.pending?.abort();
    this.pending = undefined;
  }
}

/**
 * Starts the job's SSH multiplexer process when `[SSH] Multiplex` is on (and the driver's own script is known); it
 * connects once told to ({@link handOverToMultiplexer}). @returns undefined when the run stages open a connection each
 */
function startJobMultiplexer(ctx: StageContext, statePath: string): PendingMultiplexer | undefined {
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
async function handOverToMultiplexer(mux: PendingMultiplexer, state: JobState, statePath: string, log: Logger): Promise<JobState> {
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
