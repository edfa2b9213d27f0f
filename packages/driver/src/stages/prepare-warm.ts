import { rmSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { POOL_CLAIM_COMMAND } from '@gitlab-fargate/config';
import { secondsToMs } from '../duration.js';
import { SystemFailure, messageOf } from '../errors.js';
import { type JobState, stateStem, writeState } from '../job/state.js';
import { elapsedSeconds } from '../log.js';
import { warmJobRecord } from '../metrics/warm-record.js';
import { type WarmClaim, claimWarmTask } from '../pool/claim-warm.js';
import type { PoolEntry } from '../pool/entry.js';
import { planDifference } from '../pool/plan-difference.js';
import { poolTaskPlan } from '../pool/task-keys.js';
import type { PlannedJob } from './prepare-job.js';

/** A first claim, and one more after a warm task failed; then the cold path. */
const WARM_ATTEMPTS = 2;

/** The in-task lock is one `mkdir`: a session that has not ended this long after its cancel is given up. */
const LOCK_CANCEL_GRACE_MS = 1_000;

/** What the warm path needs from prepare: the job's plan (after overrides) and the state it wrote before any task. */
export type WarmPrepareInput = Pick<
  PlannedJob,
  'ctx' | 'plan' | 'path' | 'initial' | 'deadline' | 'started' | 'transport' | 'mux' | 'sleep' | 'now'
> & {
  /**
   * The ECS client, created on first use: nothing before the claim needs the AWS SDK, and the warm path only for the
   * one TagResource after the lock (or to stop a task it gives back).
   */
  readonly ecs: () => Promise<ECSClient>;
  /** The derived family of an honoured `image:`/`services:` job (its job-image hash); such a job is never warm. */
  readonly imageHash?: string;
};

type WarmTaken = Extract<WarmClaim, { kind: 'warm' }>;

/**
 * Prepare's warm path: takes an idle pool task (a directory rename, no AWS call), makes it the job's with the
 * in-task lock as the first SSH command (the task's own key, its pinned host key), records it in the state file and
 * hands the connection to the multiplexer. A task that fails (unreachable, its lock already taken by the idle
 * watchdog, stale) is stopped and its entry removed, and one more is tried. One job-log line says `Warm start` or
 * `Cold start` and why. @returns the job's state, or undefined for the cold path
 */
export async function prepareWarm(input: WarmPrepareInput): Promise<JobState | undefined> {
  const { ctx } = input;
  const failures: string[] = [];
  for (let attempt = 1; attempt <= WARM_ATTEMPTS; attempt++) {
    // A cancelled job must not use up an idle task.
    ctx.signal.throwIfAborted();
    const claimed = claimWarmTask({
      config: ctx.config, env: ctx.env, plan: input.plan, jobKey: stateStem(ctx.env.runnerShortToken, ctx.env.jobId),
      now: input.now, log: ctx.log, ...(input.imageHash === undefined ? {} : { imageHash: input.imageHash }),
    });
    if (claimed.kind === 'cold') {
      if (claimed.reason !== 'no pool') ctx.log.progress(`Cold start: ${[...failures, coldReason(claimed, input, failures.length > 0)].join('; ')}`);
      return undefined;
    }
    try {
      return await takeTask(input, claimed);
    } catch (error) {
      failures.push(`warm task ${claimed.entry.taskArn} failed: ${messageOf(error)}`);
      await giveBack(input, claimed, messageOf(error));
      ctx.signal.throwIfAborted();
    }
  }
  ctx.log.progress(`Cold start: ${failures.join('; ')}`);
  return undefined;
}

/** The job-log words for a cold start without a try. */
function coldReason(claimed: Extract<WarmClaim, { kind: 'cold' }>, input: WarmPrepareInput, afterFailure: boolean): string {
  const pools = claimed.pools.join(', ');
  if (claimed.reason === 'no ready task') return `no ${afterFailure ? 'other ' : ''}ready task in pool ${pools}`;
  if (claimed.reason === 'damaged entry') return `a damaged entry in pool ${pools} (${claimed.detail ?? 'unreadable'})`;
  if (input.imageHash !== undefined) return `no pool for this job's image: and services: (pool ${pools} runs the task definition's image)`;
  const difference = planDifference(input.plan, poolTaskPlan(input.ctx), input.ctx.cli);
  return `no pool for this job's task definition/size (its RunTask differs from pool ${pools}'s${difference === '' ? '' : `: ${difference}`})`;
}

/** The job's state once it owns the pool task: the task's address, key and pinned host key instead of its own. */
function warmState(input: WarmPrepareInput, entry: PoolEntry): JobState {
  const { address, hostKey, taskArn } = entry;
  if (address === undefined || hostKey === undefined || taskArn === undefined) {
    throw new SystemFailure(`its pool entry names no ${address === undefined ? 'address' : hostKey === undefined ? 'host key' : 'task'} (a damaged entry)`);
  }
  return {
    ...input.initial,
    cluster: entry.cluster,
    ...(entry.region !== undefined ? { region: entry.region } : {}),
    taskArn, address, hostKey,
    port: entry.port,
    username: entry.username,
    privateKey: entry.privateKey,
    publicKey: entry.publicKey,
  };
}

/**
 * Makes the claimed task the job's: the in-task lock, then the state file names the task, the multiplexer gets it and
 * one TagResource marks it the job's. Until the state names it, the claimed entry does: cleanup (the state file it
 * finds is this prepare's, written before the claim) stops a claimed task the state does not name.
 */
async function takeTask(input: WarmPrepareInput, claimed: WarmTaken): Promise<JobState> {
  const { ctx, path, now } = input;
  const claimedAt = now();
  let state = warmState(input, claimed.entry);
  input.mux.start();
  try {
    // Before the lock, not during it: parsing the SDK would hold up the handshake's packets as long as it takes.
    const tag = await loadTagger(input, state.taskArn as string);
    const lockStarted = now();
    await takeInTaskLock(input, state);
    const lockMs = now() - lockStarted;
    const { observed, readyAt: poolReadyAt } = claimed.entry;
    const metrics = warmJobRecord({ observed, poolReadyAt, claimedAt, readyAt: now() });
    state = { ...state, pool: { name: claimed.entry.pool, claimMs: claimed.claimMs }, metrics };
    writeState(path, state);
    const tagging = tag();
    // Awaited below, after the handover it overlaps; this only keeps a rejection from being unhandled meanwhile.
    tagging.catch(() => undefined);
    state = await input.mux.handOver(state);
    await tagging;
    ctx.log.progress(`Warm start: took idle task ${state.taskArn} of pool ${claimed.entry.pool} (claim ${claimed.claimMs} ms, in-task lock ${lockMs} ms)`);
  } catch (error) {
    input.mux.abandonTask();
    throw error;
  }
  ctx.log.progress(`Job container ready after ${elapsedSeconds(input.started, now())} s (warm start)`);
  return state;
}

/** Creates the ECS client (the SDK loaded) and loads the tagging module: @returns the TagResource call for `taskArn` */
async function loadTagger(input: WarmPrepareInput, taskArn: string): Promise<() => Promise<void>> {
  const [ecs, { tagClaimedTask }] = await Promise.all([input.ecs(), import('./prepare-warm-tag.js')]);
  const { ctx, plan, started, deadline } = input;
  return () => tagClaimedTask({ ecs, taskArn, jobId: ctx.env.jobId, plan, started, ...(deadline === undefined ? {} : { deadline }) });
}

/** Connects with the task's key, its host key pinned, and runs {@link POOL_CLAIM_COMMAND}: exit 0 or it is not ours. */
async function takeInTaskLock(input: WarmPrepareInput, state: JobState): Promise<void> {
  const { ctx } = input;
  const timeoutMs = secondsToMs(ctx.config.ssh.connectTimeout);
  const target = {
    host: state.address as string, port: state.port, username: state.username,
    privateKey: state.privateKey, hostKey: state.hostKey as string,
  };
  const connection = await input.transport.connect(target, { timeoutMs, keepaliveIntervalMs: 0 });
  try {
    const stderr = new PassThrough();
    let said = '';
    stderr.on('data', (chunk: Buffer) => {
      said = `${said}${chunk.toString('utf8')}`.slice(0, 500);
    });
    const cancel = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    const result = await connection.exec(POOL_CLAIM_COMMAND, { stdin: '', stdout: discard(), stderr, cancel, graceMs: LOCK_CANCEL_GRACE_MS });
    if (result.exitCode === 0) return;
    const how = result.cancelled ? `did not finish within ${timeoutMs / 1000} s` : result.exitCode !== undefined ? `exited ${result.exitCode}` : 'ended without an exit status';
    throw new SystemFailure(`its in-task lock (${POOL_CLAIM_COMMAND}) ${how}${said.trim() === '' ? '' : `: ${said.trim()}`}: not this job's task`);
  } finally {
    connection.close();
  }
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

/** A claimed task that failed is stopped under a fresh deadline, its entry removed, the state back to no task. */
async function giveBack(input: WarmPrepareInput, claimed: WarmTaken, why: string): Promise<void> {
  const { ctx } = input;
  const { taskArn, cluster } = claimed.entry;
  if (taskArn !== undefined) {
    try {
      const reason = `gitlab-fargate: warm start of job ${ctx.env.jobId} failed: ${why}`;
      const deadlineMs = secondsToMs(ctx.config.timeouts.stopTask);
      const [ecs, { stopTask }] = await Promise.all([input.ecs(), import('../aws/launch.js')]);
      await stopTask(ecs, { cluster, taskArn, reason }, { deadlineMs, sleep: input.sleep });
    } catch (error) {
      ctx.log.warn(`could not stop the warm task ${taskArn} this job gave up (gc stops it by age): ${messageOf(error)}`);
    }
  }
  rmSync(claimed.path, { force: true });
  writeState(input.path, input.initial);
}
