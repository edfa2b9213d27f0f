import { createReadStream, statSync } from 'node:fs';
import { SystemFailure } from '../errors.js';
import { stageExecution } from '../job-image/build-stage.js';
import { readState } from '../job/state.js';
import { DEFAULT_GRACE_MS } from '../ssh/exec.js';
import { MuxUnavailable, multiplexedTransport } from '../ssh/mux/client.js';
import type { Connection, ExecResult, Transport, TransportTarget } from '../ssh/transport.js';
import { type StageContext, jobStatePath } from './context.js';
import { stageFailure } from './run-result.js';
import { afterRunStage } from './run-summary.js';

/** Options of {@link runStage}. */
export interface RunStageOptions {
  /** @default the job's SSH multiplexer when prepare started one, else a new SSH connection */
  readonly transport?: Transport;
  /** Wait for the remote script after forwarding SIGTERM. @default 10_000 */
  readonly graceMs?: number;
  /** Pause between connection attempts. @default 1_000 */
  readonly retryDelayMs?: number;
}

/**
 * `custom run SCRIPT STAGE`: streams the runner's script to bash in the job container over SSH with the pinned
 * host key, passing stdout/stderr through. Runs ~10 times a job, so it never loads the AWS SDK, and goes through
 * the job's multiplexer when there is one (no handshake, no ssh2 to load); when that does not answer, nothing ran
 * and the stage connects on its own. Each stage records how it ended in the state file for the job's metrics, and
 * the last one (`cleanup_file_variables`) ends the job log with the task's timeline and cost (`run-summary.ts`).
 *
 * @throws BuildFailure when the script exits non-zero (or is killed by a signal it did not get from us)
 * @throws SystemFailure for anything else, including cancellation
 */
export async function runStage(ctx: StageContext, scriptPath: string, stageName: string, options: RunStageOptions = {}): Promise<void> {
  let failure: unknown;
  try {
    await runScript(ctx, scriptPath, stageName, options);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await afterRunStage(ctx, stageName, failure);
  }
}

/** The stage itself: the script over the multiplexer or SSH, its result as the driver's exit. */
async function runScript(ctx: StageContext, scriptPath: string, stageName: string, options: RunStageOptions): Promise<void> {
  const log = ctx.log.child({ stage: stageName });
  try {
    if (!statSync(scriptPath).isFile()) throw new Error('not a regular file');
  } catch (error) {
    throw new SystemFailure(`cannot read the script ${scriptPath}: ${(error as Error).message}`);
  }
  const path = jobStatePath(ctx);
  const state = readState(path);
  if (state === undefined) {
    throw new SystemFailure(`no job state at ${path}: prepare did not run or did not finish for job ${ctx.env.jobId}`);
  }
  // A job image's user stages run in its build container; the rest in the helper (`job-image/build-stage.ts`).
  const { target, command } = stageExecution(state, stageName);
  if (target === undefined) {
    throw new SystemFailure(`the job state at ${path} has no reachable task yet: prepare did not finish`);
  }
  log.debug('executing the script in the job container', { taskArn: state.taskArn, host: state.address, port: target.port });
  const execute = async (connection: Connection): Promise<ExecResult> => {
    try {
      return await connection.exec(command, {
        stdin: createReadStream(scriptPath),
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        cancel: ctx.signal,
        graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
      });
    } finally {
      connection.close();
    }
  };
  // The multiplexer routes the stage itself (the same `stageExecution`), to the helper or the build container.
  const multiplexer = state.mux === undefined ? undefined : { socket: state.mux.socket, stage: stageName };
  const result = (await throughMultiplexer(multiplexer, options, target, execute, log)) ??
    (await execute(await connectDirectly(options, target, ctx, log)));
  const failure = stageFailure(result, { stageName, endpoint: `${state.address}:${target.port}`, cancelReason: ctx.signal.reason });
  if (failure !== undefined) throw failure;
}

/** Runs the script through the job's multiplexer; `undefined` when there is none or it ran nothing. */
async function throughMultiplexer(
  multiplexer: { readonly socket: string; readonly stage: string } | undefined,
  options: RunStageOptions,
  target: TransportTarget,
  execute: (connection: Connection) => Promise<ExecResult>,
  log: StageContext['log'],
): Promise<ExecResult | undefined> {
  if (options.transport !== undefined || multiplexer === undefined) return undefined;
  try {
    return await execute(await multiplexedTransport(multiplexer.socket, multiplexer.stage).connect(target));
  } catch (error) {
    if (!(error instanceof MuxUnavailable)) throw error;
    log.debug(`${error.message}; connecting on our own`);
    return undefined;
  }
}

/** The stage's own SSH connection (`run-direct.ts`), loaded only on this route: through the multiplexer, none of it is. */
async function connectDirectly(
  options: RunStageOptions,
  target: TransportTarget,
  ctx: StageContext,
  log: StageContext['log'],
): Promise<Connection> {
  const { connectOnOurOwn } = await import('./run-direct.js');
  const transport = options.transport !== undefined ? { transport: options.transport } : {};
  return connectOnOurOwn(target, ctx, log, { ...transport, retryDelayMs: options.retryDelayMs ?? 1_000 });
}
