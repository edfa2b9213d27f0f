import { dirname, join } from 'node:path';
import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { type LaunchPlan, launchTask, stopTask } from '../aws/launch.js';
import { describePlacement } from '../aws/placement-text.js';
import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { type AwaitJobImageInput, awaitJobImage } from '../job-image/await-job-image.js';
import { type JobImageLaunch, decideJobImage, planJobImageLaunch } from '../job-image/prepare-job-image.js';
import { jobDeadline } from '../job/deadline.js';
import { readOverrides } from '../job/overrides.js';
import { planLaunch } from '../job/plan.js';
import { type BuildContainerSsh, type JobState, TASK_DEFINITION_CACHE_FILE, UnusableState, readState, stateStem, writeState } from '../job/state.js';
import { elapsedSeconds } from '../log.js';
import { TaskObserver } from '../metrics/observe.js';
import { recordStageOutcome } from '../metrics/record-outcome.js';
import { releaseJobClaims } from '../pool/job-claims.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { sshTransport } from '../ssh/connect.js';
import { type JobKeyPair, generateJobKeyPair } from '../ssh/keys.js';
import type { PendingMultiplexer } from '../ssh/mux/launcher.js';
import type { Transport } from '../ssh/transport.js';
import { type Ready, awaitReady } from './await-ready.js';
import { type StageContext, jobStatePath } from './context.js';
import { handOverToMultiplexer, startJobMultiplexer } from './prepare-mux.js';
import { type WarmPrepareInput, prepareWarm } from './prepare-warm.js';

/** Injectable parts of {@link prepareStage}. */
export interface PrepareOptions {
  /** @default clients for `[Fargate] Region` */
  readonly clients?: AwsClients;
  /** @default SSH */
  readonly transport?: Transport;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  /** RunTask backoff: first pause. @default 5_000 */
  readonly launchBaseDelayMs?: number;
}

/** What prepare decided before any task: the job's plan, its state file and what it wrote there. */
interface PlannedJob {
  readonly ctx: StageContext;
  readonly clients: AwsClients;
  /** The job's RunTask plan, after its overrides and its image (when honoured). */
  readonly plan: LaunchPlan;
  /** The job's image and services (`[JobImages]`), when honoured. */
  readonly image?: JobImageLaunch;
  readonly path: string;
  /** The state before any task: the job's own key pair, SSH settings, deadline. */
  readonly initial: JobState;
  readonly deadline?: Date;
  readonly started: number;
  readonly sleep: Sleep;
  readonly now: () => number;
}

/**
 * `custom prepare`: gives the job a task whose sshd accepts the job's key. Per-job overrides are checked before
 * anything starts. An idle task of the warm pool is taken when one fits (`prepare-warm.ts`); otherwise a task is
 * started: its ARN is in the state file before any waiting, so cleanup can always stop it, and if anything after
 * RunTask fails (recording the task included, or the job is cancelled), the task is stopped under a fresh deadline.
 */
export async function prepareStage(ctx: StageContext, options: PrepareOptions = {}): Promise<JobState> {
  const job = await planJob(ctx, options);
  const transport = options.transport ?? sshTransport;
  const warm = await prepareWarm(warmInput(job, transport));
  return warm ?? (await prepareCold(job, transport, options));
}

/** The warm path's view of the job: its plan, and for an `image:` job its derived family as the image hash. */
function warmInput(job: PlannedJob, transport: Transport): WarmPrepareInput {
  return {
    ctx: job.ctx, ecs: job.clients.ecs, plan: job.plan, path: job.path, initial: job.initial, started: job.started, transport,
    sleep: job.sleep, now: job.now,
    ...(job.deadline === undefined ? {} : { deadline: job.deadline }),
    ...(job.image === undefined ? {} : { imageHash: job.image.family }),
  };
}

/**
 * Everything before a task: overrides, key pair, deadline and plan; an earlier attempt's task stopped; the state file
 * written (an unwritable metadata directory fails here); the job image's refusals (allow-lists, limits, port clashes).
 */
async function planJob(ctx: StageContext, options: PrepareOptions): Promise<PlannedJob> {
  const { config, env, log } = ctx;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const started = now();
  const overrides = readOverrides(env.variables, config.overrides);
  const keys = generateJobKeyPair(`gitlab-fargate-job-${env.jobId}`);
  const deadline = jobDeadline(started, env.jobTimeoutSeconds);
  const seed = `${env.runnerShortToken}\0${env.jobId}\0${env.tmpDir ?? ctx.cwd}`;
  const plainPlan = planLaunch(config, env, ctx.cli, overrides, keys.publicKey, seed, deadline);
  const jobImage = decideJobImage(config, env);
  if (jobImage.kind === 'ignored') log.progress(jobImage.line);
  const path = jobStatePath(ctx);
  const clients = options.clients ?? createAwsClients(config.fargate.region);
  await stopLeftover(ctx, path, clients, sleep);
  await releaseLeftoverClaims(ctx, clients, sleep);
  const initial = initialState(ctx, keys, started, deadline);
  writeState(path, initial);
  const image = jobImage.kind !== 'honoured' ? undefined : await planJobImageLaunch({
    ecs: clients.ecs, config, env, request: jobImage.request, plan: plainPlan, publicKey: keys.publicKey,
    cacheFile: join(dirname(path), TASK_DEFINITION_CACHE_FILE), log, signal: ctx.signal, sleep,
  });
  return {
    ctx, clients, plan: image?.plan ?? plainPlan, path, initial, started, sleep, now,
    ...(image === undefined ? {} : { image }), ...(deadline === undefined ? {} : { deadline }),
  };
}

/** The cold path: RunTask, the ARN recorded, then the wait until the task answers SSH. */
async function prepareCold(planned: PlannedJob, transport: Transport, options: PrepareOptions): Promise<JobState> {
  const { ctx, clients, plan, path, now, sleep } = planned;
  const { config, log } = ctx;
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
  const job: StartedJob = { ...planned, taskArn, observer, recorded: false };
  try {
    const recorded: JobState = { ...planned.initial, taskArn, metrics: observer.snapshot() };
    writeState(path, recorded);
    job.recorded = true;
    // Only now: whoever sees this line (a person, a test that kills prepare then) may count on cleanup stopping it.
    log.progress(`Task ${taskArn} created (${describePlacement(launched.placement)})`);
    return await awaitJob(job, recorded, transport);
  } catch (error) {
    if (job.recorded) noteProblem(ctx, recordStageOutcome(path, 'prepare', error, observer.snapshot()));
    await stopAfterFailedPrepare(job, error);
    throw error;
  }
}

/**
 * Pool tasks an earlier attempt of this job claimed (its claimed entries, found by the job's key) are stopped and
 * their entries removed: each pool task serves one attempt, and the entry holds the task's private key.
 */
async function releaseLeftoverClaims(ctx: StageContext, clients: AwsClients, sleep: Sleep): Promise<void> {
  const root = ctx.config.poolDefaults.directory;
  if (root === undefined) return;
  await releaseJobClaims({
    ecs: clients.ecs, root, jobKey: stateStem(ctx.env.runnerShortToken, ctx.env.jobId), log: ctx.log,
    reason: `gitlab-fargate: replaced by a new prepare of job ${ctx.env.jobId}`,
    stop: { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep },
  });
}

/** A metrics record that could not be written is worth a warning, never a failed job. */
function noteProblem(ctx: StageContext, problem: string | undefined): void {
  if (problem !== undefined) ctx.log.warn(problem);
}

/** The job's state before RunTask: key pair, SSH settings, and when the job can no longer be running. */
function initialState(ctx: StageContext, keys: JobKeyPair, started: number, deadline: Date | undefined): JobState {
  const { config, env } = ctx;
  return {
    version: 1,
    jobId: env.jobId,
    runnerShortToken: env.runnerShortToken,
    cluster: config.fargate.cluster,
    ...(config.fargate.region !== undefined ? { region: config.fargate.region } : {}),
    port: config.ssh.port,
    username: config.ssh.username,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    createdAt: new Date(started).toISOString(),
    ...(deadline !== undefined ? { expiresAt: deadline.toISOString() } : {}),
  };
}

/** A prepare past RunTask: a task exists that must be stopped if anything fails from here on. */
interface StartedJob extends PlannedJob {
  readonly taskArn: string;
  /** What ECS says about the task, for the job's timeline and cost. */
  readonly observer: TaskObserver;
  /** Whether the state file names the task (cleanup can then stop it if this prepare cannot). */
  recorded: boolean;
  mux?: PendingMultiplexer;
}

/** Waits until the task answers SSH, pins its host key and hands its connection to the multiplexer, if any. */
async function awaitJob(job: StartedJob, recorded: JobState, transport: Transport): Promise<JobState> {
  const { ctx, path, now } = job;
  const { config, log } = ctx;
  let state = recorded;
  // Started now so its start-up overlaps the task's; it connects once the task is ready.
  job.mux = startJobMultiplexer(ctx, path);
  const ready = await awaitReady({
    ecs: job.clients.ecs,
    ec2: job.clients.ec2,
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
    if (job.image !== undefined) build = await awaitJobImage(jobImageInput(job, job.image, ready, state, transport));
  } finally {
    ready.connection.close();
  }
  job.observer.ready();
  state = { ...state, hostKey: ready.connection.hostKey, ...(build === undefined ? {} : { build }), metrics: job.observer.snapshot() };
  writeState(path, state);
  if (job.mux !== undefined) state = await handOverToMultiplexer(job.mux, state, path, log);
  const after = ready.runningAt === undefined ? 'before ECS reported RUNNING' : `${elapsedSeconds(ready.runningAt, now())} s after RUNNING`;
  log.progress(`Job container ready after ${elapsedSeconds(job.started, now())} s (SSH answered ${after})`);
  return state;
}

/** What the job image's steps of readiness need from this prepare. */
function jobImageInput(job: StartedJob, launch: JobImageLaunch, ready: Ready, state: JobState, transport: Transport): AwaitJobImageInput {
  const { ctx } = job;
  return {
    launch, ecs: job.clients.ecs, cluster: job.plan.cluster, taskArn: job.taskArn, transport, config: ctx.config,
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
  job.mux?.abort();
  ctx.log.progress(`Prepare failed: ${messageOf(error)}. Stopping task ${taskArn}`);
  try {
    await stopTask(
      job.clients.ecs,
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

/**
 * A state file that already names a task means an earlier prepare attempt of this job was not cleaned up (the
 * runner's cleanup failed or never ran). Its task would otherwise be forgotten when the file is overwritten. Only a
 * task of this very job (same job id, runner, cluster and region) is stopped: the file is a claim, not a command.
 */
async function stopLeftover(ctx: StageContext, path: string, clients: AwsClients, sleep: Sleep): Promise<void> {
  let previous: JobState | undefined;
  try {
    previous = readState(path);
  } catch (error) {
    // An untrusted directory fails the stage here, before any task exists; a file that cannot be used names nothing
    // usable (gc catches its task, if any) and is overwritten.
    if (!(error instanceof UnusableState)) throw error;
    ctx.log.warn(`ignoring the job state file left at ${path}: ${messageOf(error)}`);
    return;
  }
  if (previous?.taskArn === undefined) return;
  const mismatch = leftoverMismatch(ctx, previous);
  if (mismatch !== undefined) {
    ctx.log.warn(`not stopping task ${previous.taskArn}, named by the state file left at ${path}: ${mismatch}; gc deals with it`);
    return;
  }
  ctx.log.progress(`Stopping task ${previous.taskArn}, left over from an earlier attempt of this job`);
  try {
    await stopTask(
      clients.ecs,
      { cluster: previous.cluster, taskArn: previous.taskArn, reason: `gitlab-fargate: replaced by a new prepare of job ${previous.jobId}` },
      { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep },
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
