import { createHash } from 'node:crypto';
import { POOL_IDLE_DEADLINE_VARIABLE, POOL_TAG_KEYS, type PoolSettings } from '@gitlab-fargate/config';
import { type LaunchPlan, launchTask, stopTask } from '../aws/launch.js';
import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { TAG_KEYS, planLaunch } from '../job/plan.js';
import { TaskObserver } from '../metrics/observe.js';
import { awaitReady } from '../stages/await-ready.js';
import { generateJobKeyPair } from '../ssh/keys.js';
import type { KeeperContext } from './context.js';
import { removeEntry, writeEntry } from './directory.js';
import type { PoolEntry } from './entry.js';
import { configHash, poolKey } from './pool-key.js';
import { currentKeys } from './task-keys.js';

/** The RunTask plan of a pool task: the job's default plan, without job tags, with the pool's tags and deadline. */
export function poolPlan(ctx: KeeperContext, pool: string, publicKey: string, seed: string, idleDeadline: number): LaunchPlan {
  const deadline = new Date(idleDeadline * 1000);
  const base = planLaunch(ctx.config, ctx.env, {}, {}, publicKey, seed, deadline);
  const tags: Record<string, string> = { ...base.tags, [POOL_TAG_KEYS.pool]: pool, [TAG_KEYS.manager]: ctx.managerId };
  delete tags[TAG_KEYS.jobId];
  delete tags[TAG_KEYS.project];
  tags[POOL_TAG_KEYS.configHash] = configHash(poolKey(base), ctx.config);
  return { ...base, tags, environment: { ...base.environment, [POOL_IDLE_DEADLINE_VARIABLE]: String(idleDeadline) } };
}

/** One fill: which slot of which cycle, so a repeated RunTask (same client token) cannot start a second task. */
export interface FillRequest {
  readonly pool: PoolSettings;
  readonly slot: number;
  /** Keeper instance and cycle number. */
  readonly epoch: string;
  /** Seconds from launch the task may idle (the policy's). */
  readonly idleTime: number;
}

/**
 * Starts one pool task and makes it ready: the pending entry first (so a crash leaves a trace), then RunTask with the
 * task's own key and `GITLAB_FARGATE_IDLE_DEADLINE`, the ARN recorded, the driver's readiness wait (SSH with the
 * task's key, host key pinned), then the ready entry. Any failure (SIGTERM included) stops the task and removes the
 * pending entry. @returns whether a ready entry was written
 */
export async function fillOne(ctx: KeeperContext, request: FillRequest): Promise<boolean> {
  const { pool } = request;
  const pair = generateJobKeyPair(`gitlab-fargate-pool-${pool.name}`);
  const keys = currentKeys(ctx);
  const seed = `pool\0${pool.name}\0${keys.poolKey}\0${request.slot}\0${request.epoch}`;
  const launchedAt = ctx.now();
  const idleDeadline = Math.floor(launchedAt / 1000) + request.idleTime;
  const plan = poolPlan(ctx, pool.name, pair.publicKey, seed, idleDeadline);
  let entry: PoolEntry = {
    version: 1,
    pool: pool.name,
    ...keys,
    cluster: plan.cluster,
    ...(ctx.config.fargate.region !== undefined ? { region: ctx.config.fargate.region } : {}),
    fillId: createHash('sha256').update(seed).digest('hex').slice(0, 24),
    port: ctx.config.ssh.port,
    username: ctx.config.ssh.username,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    launchedAt: new Date(launchedAt).toISOString(),
    idleDeadline,
  };
  const pending = { entry, state: 'pending' as const, path: writeEntry(ctx.root, entry, 'pending') };
  const started: { taskArn?: string } = {};
  try {
    entry = await launchAndWait(ctx, plan, entry, started);
    writeEntry(ctx.root, entry, 'ready');
    removeEntry(pending);
    ctx.metrics.fill(pool.name, 'ok');
    ctx.metrics.fillSeconds(pool.name, (ctx.now() - launchedAt) / 1000);
    ctx.log.info('pool task ready', { pool: pool.name, task: entry.taskArn, seconds: (ctx.now() - launchedAt) / 1000 });
    return true;
  } catch (error) {
    ctx.metrics.fill(pool.name, 'failed');
    await stopFailedFill(ctx, entry, started.taskArn, error);
    removeEntry(pending);
    return false;
  }
}

/**
 * RunTask, the ARN into the pending entry, then the readiness wait. What ECS says about the task on the way (size,
 * capacity, timestamps) goes into the entry, for the cost of the job that claims it. @returns the entry, ready to publish
 */
async function launchAndWait(ctx: KeeperContext, plan: LaunchPlan, entry: PoolEntry, started: { taskArn?: string }): Promise<PoolEntry> {
  const { config } = ctx;
  const deadlineMs = secondsToMs(config.timeouts.taskStart);
  const observer = new TaskObserver(ctx.now);
  observer.runTaskSent();
  const launched = await launchTask(ctx.clients.ecs, plan, { signal: ctx.signal, sleep: ctx.sleep, now: ctx.now, deadlineMs });
  observer.runTaskReturned(launched.task);
  let current: PoolEntry = { ...entry, taskArn: launched.task.taskArn };
  started.taskArn = launched.task.taskArn;
  writeEntry(ctx.root, current, 'pending');
  const ready = await awaitReady({
    ecs: ctx.clients.ecs,
    ec2: ctx.clients.ec2,
    transport: ctx.transport,
    config,
    cluster: plan.cluster,
    taskArn: launched.task.taskArn,
    containerName: plan.containerName,
    target: { port: entry.port, username: entry.username, privateKey: entry.privateKey },
    log: ctx.log,
    signal: ctx.signal,
    sleep: ctx.sleep,
    now: ctx.now,
    onAddress: (address) => {
      current = { ...current, address };
    },
    onTask: (task) => observer.see(task),
  });
  const hostKey = ready.connection.hostKey;
  ready.connection.close();
  observer.ready();
  const observed = observer.snapshot();
  return { ...current, address: ready.address, hostKey, readyAt: observed.readyAt as string, observed };
}

/** A fill that failed after RunTask returned stops its task under a fresh deadline (a SIGTERM aborted the old one). */
async function stopFailedFill(ctx: KeeperContext, entry: PoolEntry, taskArn: string | undefined, error: unknown): Promise<void> {
  ctx.log.warn(`pool ${entry.pool}: a fill failed: ${messageOf(error)}`, { task: taskArn });
  if (taskArn === undefined) return;
  try {
    const reason = `gitlab-fargate: pool ${entry.pool} fill failed`;
    const deadlineMs = secondsToMs(ctx.config.timeouts.stopTask);
    await stopTask(ctx.clients.ecs, { cluster: entry.cluster, taskArn, reason }, { deadlineMs, sleep: ctx.sleep });
  } catch (stopError) {
    ctx.log.warn(`could not stop pool task ${taskArn} (gc stops it next cycle): ${messageOf(stopError)}`);
  }
}
