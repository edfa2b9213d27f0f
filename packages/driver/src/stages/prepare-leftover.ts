import type { AwsClients } from '../aws/clients.js';
import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { type JobState, UnusableState, readState, stateStem } from '../job/state.js';
import { claimsOfJob, releaseJobClaims } from '../pool/job-claims.js';
import type { Sleep } from '../sleep.js';
import type { StageContext } from './context.js';

/**
 * What an earlier attempt of this job left: its state file, read before anything starts (an untrusted state directory
 * fails the stage here). A file that cannot be used names nothing usable (gc catches its task, if any) and is
 * overwritten. @returns the earlier state when it names a task
 */
export function readLeftover(ctx: StageContext, path: string): JobState | undefined {
  try {
    const previous = readState(path);
    return previous?.taskArn === undefined ? undefined : previous;
  } catch (error) {
    if (!(error instanceof UnusableState)) throw error;
    ctx.log.warn(`ignoring the job state file left at ${path}: ${messageOf(error)}`);
    return undefined;
  }
}

/** What {@link settleLeftovers} needs. */
export interface LeftoverInput {
  readonly ctx: StageContext;
  readonly path: string;
  /** From {@link readLeftover}. */
  readonly previous: JobState | undefined;
  /** Created only when there is a task to stop. */
  readonly clients: () => Promise<AwsClients>;
  readonly sleep: Sleep;
}

/**
 * Stops what an earlier attempt of this job left (the runner's cleanup failed or never ran): the task its state file
 * names, and the pool tasks it claimed. Loads the AWS SDK only when there is one.
 */
export async function settleLeftovers(input: LeftoverInput): Promise<void> {
  if (input.previous !== undefined) await stopLeftover(input, input.previous);
  await releaseLeftoverClaims(input);
}

/**
 * A state file that already names a task means an earlier prepare attempt of this job was not cleaned up. Its task
 * would otherwise be forgotten when the file is overwritten. Only a task of this very job (same job id, runner,
 * cluster and region) is stopped: the file is a claim, not a command.
 */
async function stopLeftover(input: LeftoverInput, previous: JobState): Promise<void> {
  const { ctx, path } = input;
  const mismatch = leftoverMismatch(ctx, previous);
  if (mismatch !== undefined) {
    ctx.log.warn(`not stopping task ${previous.taskArn}, named by the state file left at ${path}: ${mismatch}; gc deals with it`);
    return;
  }
  ctx.log.progress(`Stopping task ${previous.taskArn}, left over from an earlier attempt of this job`);
  try {
    const [clients, { stopTask }] = await Promise.all([input.clients(), import('../aws/launch.js')]);
    await stopTask(
      clients.ecs,
      { cluster: previous.cluster, taskArn: previous.taskArn as string, reason: `gitlab-fargate: replaced by a new prepare of job ${previous.jobId}` },
      { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep: input.sleep },
    );
  } catch (error) {
    ctx.log.warn(`could not stop the leftover task ${previous.taskArn}: ${messageOf(error)}`);
  }
}

/** Why a leftover state is not this job's, or `undefined` when it is. */
function leftoverMismatch(ctx: StageContext, previous: JobState): string | undefined {
  const { cluster, region } = ctx.config.fargate;
  const expected = { jobId: ctx.env.jobId, runnerShortToken: ctx.env.runnerShortToken, cluster, region };
  for (const key of ['jobId', 'runnerShortToken', 'cluster', 'region'] as const) {
    if (previous[key] !== expected[key]) return `its ${key} is ${JSON.stringify(previous[key])}, this job's is ${JSON.stringify(expected[key])}`;
  }
  return undefined;
}

/**
 * Pool tasks an earlier attempt of this job claimed (its claimed entries, found by the job's key) are stopped and
 * their entries removed: each pool task serves one attempt, and the entry holds the task's private key.
 */
async function releaseLeftoverClaims(input: LeftoverInput): Promise<void> {
  const { ctx } = input;
  const root = ctx.config.poolDefaults.directory;
  const jobKey = stateStem(ctx.env.runnerShortToken, ctx.env.jobId);
  if (root === undefined || claimsOfJob(root, jobKey).length === 0) return;
  const clients = await input.clients();
  await releaseJobClaims({
    ecs: clients.ecs, root, jobKey, log: ctx.log,
    reason: `gitlab-fargate: replaced by a new prepare of job ${ctx.env.jobId}`,
    stop: { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep: input.sleep },
  });
}
