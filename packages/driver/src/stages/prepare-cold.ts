import type { AwsClients } from '../aws/clients.js';
import { launchTask, stopTask } from '../aws/launch.js';
import { describePlacement } from '../aws/placement-text.js';
import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { type AwaitJobImageInput, awaitJobImage } from '../job-image/await-job-image.js';
import type { JobImageLaunch } from '../job-image/prepare-job-image.js';
import { type BuildContainerSsh, type JobState, writeState } from '../job/state.js';
import { elapsedSeconds } from '../log.js';
import { TaskObserver } from '../metrics/observe.js';
import { recordStageOutcome } from '../metrics/record-outcome.js';
import { type Ready, awaitReady } from './await-ready.js';
import type { StageContext } from './context.js';
import type { PlannedJob, PrepareOptions } from './prepare-job.js';

// Apart from `prepare.ts`, and loaded only when no warm task serves the job: RunTask, the readiness wait and the job
// image's steps are what a warm start never needs (the AWS SDK's polling, ssh2's readiness probe, job images).

/**
 * The cold path: RunTask, the ARN recorded, then the wait until the task answers SSH. If anything after RunTask fails
 * (recording the task included, or the job is cancelled), the task is stopped under a fresh deadline.
 */
export async function prepareCold(planned: PlannedJob, options: PrepareOptions): Promise<JobState> {
  const { ctx, plan, path, now, sleep } = planned;
  const { config, log } = ctx;
  const clients = await planned.clients();
  log.progress(`Starting a Fargate task from ${plan.taskDefinition} in cluster ${plan.cluster} (${describePlacement(plan.placement)})`);
  const observer = new TaskObserver(now);
  observer.runTaskSent();
  const launched = await launchTask(clients.ecs, plan, {
    signal: ctx.signal,
    sleep,
    baseDelayMs: options.launchBaseDelayMs,
    deadlineMs: secondsToMs(config.timeouts.taskStart),
    now,
    progress: (line) => log.progress(line),
  }).catch((error: unknown) => {
    noteProblem(ctx, recordStageOutcome(path, 'prepare', error, observer.snapshot()));
    throw error;
  });
  observer.runTaskReturned(launched.task);
  const taskArn = launched.task.taskArn;
  const job: StartedJob = { ...planned, awsClients: clients, taskArn, observer, recorded: false };
  try {
    const recorded: JobState = { ...planned.initial, taskArn, metrics: observer.snapshot() };
    writeState(path, recorded);
    job.recorded = true;
    // Only now: whoever sees this line (a person, a test that kills prepare then) may count on cleanup stopping it.
    log.progress(`Task ${taskArn} created (${describePlacement(launched.placement)})`);
    return await awaitJob(job, recorded);
  } catch (error) {
    if (job.recorded) noteProblem(ctx, recordStageOutcome(path, 'prepare', error, observer.snapshot()));
    await stopAfterFailedPrepare(job, error);
    throw error;
  }
}

/** A metrics record that could not be written is worth a warning, never a failed job. */
function noteProblem(ctx: StageContext, problem: string | undefined): void {
  if (problem !== undefined) ctx.log.warn(problem);
}

/** A prepare past RunTask: a task exists that must be stopped if anything fails from here on. */
interface StartedJob extends PlannedJob {
  readonly awsClients: AwsClients;
  readonly taskArn: string;
  /** What ECS says about the task, for the job's timeline and cost. */
  readonly observer: TaskObserver;
  /** Whether the state file names the task (cleanup can then stop it if this prepare cannot). */
  recorded: boolean;
}

/** Waits until the task answers SSH, pins its host key and hands its connection to the multiplexer, if any. */
async function awaitJob(job: StartedJob, recorded: JobState): Promise<JobState> {
  const { ctx, path, now, transport } = job;
  const { config, log } = ctx;
  let state = recorded;
  // Started now (unless a warm attempt did) so its start-up overlaps the task's; it connects once the task is ready.
  job.mux.start();
  const ready = await awaitReady({
    ecs: job.awsClients.ecs,
    ec2: job.awsClients.ec2,
    transport,
    config,
    cluster: job.plan.cluster,
    taskArn: job.taskArn,
    containerName: job.plan.containerName,
    target: { port: state.port, username: state.username, privateKey: state.privateKey },
    log,
    signal: ctx.signal,
    sleep: job.sleep,
    now,
    onTask: (task) => job.observer.see(task),
    onAddress: (address) => {
      state = { ...state, address };
      writeState(path, state);
    },
  });
  let build: BuildContainerSsh | undefined;
  try {
    if (job.image !== undefined) build = await awaitJobImage(jobImageInput(job, job.image, ready, state));
  } finally {
    ready.connection.close();
  }
  job.observer.ready();
  state = { ...state, hostKey: ready.connection.hostKey, ...(build === undefined ? {} : { build }), metrics: job.observer.snapshot() };
  writeState(path, state);
  state = await job.mux.handOver(state);
  const after = ready.runningAt === undefined ? 'before ECS reported RUNNING' : `${elapsedSeconds(ready.runningAt, now())} s after RUNNING`;
  log.progress(`Job container ready after ${elapsedSeconds(job.started, now())} s (SSH answered ${after})`);
  return state;
}

/** What the job image's steps of readiness need from this prepare. */
function jobImageInput(job: StartedJob, launch: JobImageLaunch, ready: Ready, state: JobState): AwaitJobImageInput {
  const { ctx } = job;
  return {
    launch, ecs: job.awsClients.ecs, cluster: job.plan.cluster, taskArn: job.taskArn, transport: job.transport, config: ctx.config,
    address: ready.address, privateKey: state.privateKey, helper: ready.connection,
    log: ctx.log, signal: ctx.signal, sleep: job.sleep, now: job.now,
  };
}

/**
 * Every failure after RunTask ends here: stops the multiplexer and the task (under a fresh deadline: the job's own
 * may be cancelled), so a prepare that fails never leaves a task behind, even when it could not record it.
 */
async function stopAfterFailedPrepare(job: StartedJob, error: unknown): Promise<void> {
  const { ctx, taskArn } = job;
  job.mux.abort();
  ctx.log.progress(`Prepare failed: ${messageOf(error)}. Stopping task ${taskArn}`);
  try {
    await stopTask(
      job.awsClients.ecs,
      { cluster: job.plan.cluster, taskArn, reason: `gitlab-fargate: prepare failed for job ${ctx.env.jobId}: ${messageOf(error)}` },
      { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep: job.sleep },
    );
  } catch (stopError) {
    const next = job.recorded
      ? 'the state file names it, so cleanup (which the runner always runs) tries again'
      : 'no state file names it: gc stops it once it is older than --min-age (or past its deadline tag)';
    ctx.log.warn(`could not stop task ${taskArn} after the failed prepare (${next}): ${messageOf(stopError)}`);
  }
}
