import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { type Placement, launchTask, stopTask } from '../aws/launch.js';
import { messageOf } from '../errors.js';
import { readOverrides } from '../job/overrides.js';
import { planLaunch } from '../job/plan.js';
import { type JobState, STATE_GRACE_SECONDS, readState, writeState } from '../job/state.js';
import { elapsedSeconds } from '../log.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { sshTransport } from '../ssh/connect.js';
import { generateJobKeyPair } from '../ssh/keys.js';
import { MUX_IDLE_TIMEOUT_MS, type PendingMultiplexer, launchMultiplexer, muxSocketPath } from '../ssh/mux-process.js';
import type { Transport } from '../ssh/transport.js';
import { awaitReady } from './await-ready.js';
import { type StageContext, jobStatePath } from './context.js';

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

/** For the multiplexer's socket to listen, counted from readiness (it started when RunTask returned). */
const MUX_START_TIMEOUT_MS = 5_000;

function placementText(placement: Placement): string {
  return placement.kind === 'launchType' ? 'on-demand FARGATE' : placement.strategy.map((s) => s.capacityProvider).join('+');
}

/**
 * `custom prepare`: starts the job's task and returns once its sshd accepts the job key. Per-job overrides are
 * checked before anything starts; the task ARN is in the state file before any waiting, so cleanup can always stop
 * it; if anything after RunTask fails (or the job is cancelled), the task is stopped under a fresh deadline.
 */
export async function prepareStage(ctx: StageContext, options: PrepareOptions = {}): Promise<JobState> {
  const { config, env, log } = ctx;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const started = now();

  const overrides = readOverrides(env.variables, config.overrides);
  const keys = generateJobKeyPair(`gitlab-fargate-job-${env.jobId}`);
  const plan = planLaunch(config, env, ctx.cli, overrides, keys.publicKey, `${env.runnerShortToken}\0${env.jobId}\0${env.tmpDir ?? ctx.cwd}`);
  const path = jobStatePath(ctx);
  const clients = options.clients ?? createAwsClients(config.fargate.region);
  await stopLeftover(ctx, path, clients, sleep);
  let state: JobState = {
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
    ...(env.jobTimeoutSeconds !== undefined
      ? { expiresAt: new Date(started + (env.jobTimeoutSeconds + STATE_GRACE_SECONDS) * 1000).toISOString() }
      : {}),
  };
  // Written before RunTask too: an unwritable metadata directory must fail before a task exists.
  writeState(path, state);

  log.progress(`Starting a Fargate task from ${plan.taskDefinition} in cluster ${plan.cluster} (${placementText(plan.placement)})`);
  const launched = await launchTask(clients.ecs, plan, {
    signal: ctx.signal,
    sleep,
    baseDelayMs: options.launchBaseDelayMs,
    deadlineMs: config.timeouts.taskStart * 1000,
    now,
    progress: (line) => log.progress(line),
  });
  const taskArn = launched.task.taskArn;
  state = { ...state, taskArn };
  writeState(path, state);
  log.progress(`Task ${taskArn} created (${placementText(launched.placement)})`);

  let mux: PendingMultiplexer | undefined;
  try {
    if (config.ssh.multiplex && ctx.driverEntry !== undefined) {
      // Started now so its start-up overlaps the task's; it connects once the task is ready.
      mux = launchMultiplexer(ctx.driverEntry, {
        statePath: path,
        socketPath: muxSocketPath(path),
        connectTimeoutMs: config.ssh.connectTimeout * 1000,
        keepaliveIntervalMs: config.ssh.keepaliveInterval * 1000,
        keepaliveCountMax: config.ssh.keepaliveCountMax,
        idleTimeoutMs: MUX_IDLE_TIMEOUT_MS,
      });
    }
    const ready = await awaitReady({
      ecs: clients.ecs,
      ec2: clients.ec2,
      transport: options.transport ?? sshTransport,
      config,
      cluster: plan.cluster,
      taskArn,
      containerName: plan.containerName,
      target: { port: state.port, username: state.username, privateKey: state.privateKey },
      log,
      signal: ctx.signal,
      sleep,
      now,
      onAddress: (address) => {
        state = { ...state, address };
        writeState(path, state);
      },
    });
    ready.connection.close();
    state = { ...state, hostKey: ready.connection.hostKey };
    writeState(path, state);
    if (mux !== undefined) {
      // Not waiting for its handshake: the first stage's own start-up overlaps it, and its command waits for it.
      try {
        state = { ...state, mux: await mux.connect(MUX_START_TIMEOUT_MS) };
        writeState(path, state);
        log.debug('the run stages go through the job\'s SSH multiplexer', { pid: state.mux?.pid, socket: state.mux?.socket });
      } catch (error) {
        log.warn(`each stage opens its own SSH connection: ${messageOf(error)}`);
      }
    }
    const after = ready.runningAt === undefined ? 'before ECS reported RUNNING' : `${elapsedSeconds(ready.runningAt, now())} s after RUNNING`;
    log.progress(`Job container ready after ${elapsedSeconds(started, now())} s (SSH answered ${after})`);
    return state;
  } catch (error) {
    mux?.abort();
    log.progress(`Prepare failed: ${messageOf(error)}. Stopping task ${taskArn}`);
    try {
      await stopTask(
        clients.ecs,
        { cluster: plan.cluster, taskArn, reason: `gitlab-fargate: prepare failed for job ${env.jobId}: ${messageOf(error)}` },
        { deadlineMs: config.timeouts.stopTask * 1000, sleep },
      );
    } catch (stopError) {
      // The state file still names the task: cleanup (which the runner always runs) tries again.
      log.warn(`could not stop the task after the failed prepare: ${messageOf(stopError)}`);
    }
    throw error;
  }
}

/**
 * A state file that already names a task means an earlier prepare attempt of this job was not cleaned up (the
 * runner's cleanup failed or never ran). Its task would otherwise be forgotten when the file is overwritten.
 */
async function stopLeftover(ctx: StageContext, path: string, clients: AwsClients, sleep: Sleep): Promise<void> {
  let previous: JobState | undefined;
  try {
    previous = readState(path);
  } catch {
    return; // A damaged file names nothing usable; gc catches its task, if any.
  }
  if (previous?.taskArn === undefined) return;
  ctx.log.progress(`Stopping task ${previous.taskArn}, left over from an earlier attempt of this job`);
  try {
    await stopTask(
      clients.ecs,
      { cluster: previous.cluster, taskArn: previous.taskArn, reason: `gitlab-fargate: replaced by a new prepare of job ${previous.jobId}` },
      { deadlineMs: ctx.config.timeouts.stopTask * 1000, sleep },
    );
  } catch (error) {
    ctx.log.warn(`could not stop the leftover task ${previous.taskArn}: ${messageOf(error)}`);
  }
}
