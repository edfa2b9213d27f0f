import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { stopTask } from '../aws/launch.js';
import { secondsToMs } from '../duration.js';
import { SystemFailure, messageOf } from '../errors.js';
import { type JobState, UnusableState, readState, removeState, stateStem } from '../job/state.js';
import { releaseJobClaims } from '../pool/job-claims.js';
import type { Sleep } from '../sleep.js';
import { stopMultiplexer } from '../ssh/mux/launcher.js';
import { emitJobMetrics } from './cleanup-metrics.js';
import { type StageContext, jobStatePath } from './context.js';

/** Injectable parts of {@link cleanupStage}. */
export interface CleanupOptions {
  /** @default clients for the state's (else the config's) region */
  readonly clients?: AwsClients;
  readonly sleep?: Sleep;
}

/**
 * `custom cleanup`: stops the job's SSH multiplexer and task and removes the state file (and with it the job's private key). Runs under
 * its own deadline, ignoring cancellation: the runner calls it after a cancel precisely to free the task. Safe with no
 * state (prepare failed early), twice in a row, and with a task that is already gone. The state file goes even when
 * StopTask fails or the file is damaged, so no private key lingers; `gc` stops what cleanup could not.
 */
export async function cleanupStage(ctx: StageContext, options: CleanupOptions = {}): Promise<void> {
  const path = jobStatePath(ctx);
  const state = readOrRemove(path);
  if (state === undefined) {
    ctx.log.progress(`No state for job ${ctx.env.jobId}: nothing to clean up`);
    return;
  }
  const clients = options.clients ?? createAwsClients(state.region ?? ctx.config.fargate.region);
  try {
    if (state.mux !== undefined) stopMultiplexer(state.mux);
    if (state.taskArn === undefined) {
      ctx.log.progress('Prepare never started a task: nothing to stop');
      return;
    }
    const outcome = await stopTask(
      clients.ecs,
      { cluster: state.cluster, taskArn: state.taskArn, reason: `gitlab-fargate: job ${state.jobId} finished (cleanup)` },
      { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep: options.sleep },
    );
    ctx.log.progress(outcome === 'stopped' ? `Stopped task ${state.taskArn}` : `Task ${state.taskArn} was already gone`);
  } finally {
    await releasePoolClaims(ctx, state, clients, options.sleep);
    // Once per job, whatever happened: how long the start took, how it ended, what it cost (metrics/emf.ts).
    emitJobMetrics(ctx, state);
    removeState(path);
  }
}

/**
 * A warm start's pool entry (it holds the task's private key) is removed with the job; a task this job claimed that
 * the state does not name (prepare killed between its claim and its state file) is stopped first. Never fails cleanup.
 */
async function releasePoolClaims(ctx: StageContext, state: JobState, clients: AwsClients, sleep: Sleep | undefined): Promise<void> {
  const root = ctx.config.poolDefaults.directory;
  if (root === undefined) return;
  try {
    const stopped = await releaseJobClaims({
      ecs: clients.ecs, root, jobKey: stateStem(state.runnerShortToken, state.jobId), log: ctx.log,
      ...(state.taskArn === undefined ? {} : { ownTaskArn: state.taskArn }),
      reason: `gitlab-fargate: job ${state.jobId} finished (cleanup)`,
      stop: { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), ...(sleep === undefined ? {} : { sleep }) },
    });
    for (const taskArn of stopped) ctx.log.progress(`Stopped pool task ${taskArn}, claimed by this job's prepare`);
  } catch (error) {
    ctx.log.warn(`could not remove this job's warm-pool entries: ${messageOf(error)}`);
  }
}

/**
 * The job's state; a file that cannot be used (damaged, a link, someone else's) is removed, since it may hold the
 * job's private key, and cleanup fails saying so: it cannot tell which task to stop, `gc` finds it by age.
 */
function readOrRemove(path: string): JobState | undefined {
  try {
    return readState(path);
  } catch (error) {
    if (!(error instanceof UnusableState)) throw error;
    removeState(path);
    throw new SystemFailure(`the job state file ${path} ${error.problem}: removed it (it may hold the job's private key); its task, if any, is left to gc`, {
      cause: error,
    });
  }
}
