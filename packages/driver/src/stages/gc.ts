import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DescribeTasksCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { stopTask } from '../aws/launch.js';
import { SystemFailure, messageOf } from '../errors.js';
import { startedByFor } from '../job/plan.js';
import { type JobState, listStates, removeState, statePath } from '../job/state.js';
import { stopMultiplexer } from '../ssh/mux-process.js';
import type { StageContext } from './context.js';

/** Options of {@link gcStage}. */
export interface GcOptions {
  /** List, do not stop. */
  readonly dryRun: boolean;
  /**
   * Leave tasks younger than this alone. With a state directory, 600 s covers a task between RunTask and its state
   * file. Without one (a reaper running beside the manager), age is all gc can go by, so it must be given and be
   * longer than the longest job.
   * @default 600 with a state directory; required without one
   */
  readonly minAgeSeconds?: number;
  readonly clients?: AwsClients;
  readonly now?: () => number;
}

/** What gc found and did. */
export interface GcReport {
  readonly stopped: string[];
  readonly kept: string[];
}

/**
 * `gc`: stops tasks this runner started (ECS `startedBy`) that no live job owns (no state file in
 * `[TaskMetadata] Directory` names them) and that are older than the minimum age. The runner is identified by
 * `CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN`, as in a job. Where the state directory is not visible (a reaper task beside
 * the manager), only tasks older than an explicit `--min-age` are stopped.
 */
export async function gcStage(ctx: StageContext, options: GcOptions): Promise<GcReport> {
  if (ctx.env.runnerShortToken === 'unknown') {
    throw new SystemFailure('gc needs CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN (the runner short token) to find the tasks this runner started');
  }
  const directory = ctx.config.taskMetadata.directory === undefined ? undefined : resolve(ctx.cwd, ctx.config.taskMetadata.directory);
  const seesJobs = directory !== undefined && existsSync(directory);
  if (!seesJobs && options.minAgeSeconds === undefined) {
    throw new SystemFailure(
      `gc cannot see live jobs (${directory === undefined ? 'no [TaskMetadata] Directory' : `${directory} does not exist here`}), ` +
        'so only age can tell an orphan: pass --min-age longer than the longest job',
    );
  }
  const minAgeSeconds = options.minAgeSeconds ?? 600;
  if (!seesJobs) ctx.log.progress(`gc: no job state here; stopping only tasks older than ${minAgeSeconds} s`);
  const now = options.now ?? Date.now;
  const clients = options.clients ?? createAwsClients(ctx.config.fargate.region);
  const cluster = ctx.config.fargate.cluster;
  // A state whose job cannot still be running (its runner died before cleanup) owns nothing: its task is stopped
  // like any orphan, and the state file, which holds the job's private key, removed.
  const states = seesJobs ? listStates(directory) : [];
  const isStale = (state: JobState): boolean => state.expiresAt !== undefined && Date.parse(state.expiresAt) <= now();
  const owned = new Set(states.flatMap((s) => (s.taskArn === undefined || isStale(s) ? [] : [s.taskArn])));
  const staleByTask = new Map(states.flatMap((s) => (s.taskArn !== undefined && isStale(s) ? [[s.taskArn, s] as const] : [])));

  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.ecs.send(new ListTasksCommand({ cluster, startedBy: startedByFor(ctx.env.runnerShortToken), nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);

  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(out.tasks ?? []));
  }

  const report: GcReport = { stopped: [], kept: [] };
  for (const task of tasks) {
    const arn = task.taskArn ?? '';
    const ageSeconds = task.createdAt === undefined ? Infinity : (now() - task.createdAt.getTime()) / 1000;
    if (owned.has(arn) || ageSeconds < minAgeSeconds || task.desiredStatus === 'STOPPED') {
      report.kept.push(arn);
      continue;
    }
    if (options.dryRun) {
      ctx.log.progress(`would stop ${arn} (no live job, ${Math.round(ageSeconds)} s old)`);
      report.stopped.push(arn);
      continue;
    }
    try {
      await stopTask(clients.ecs, { cluster, taskArn: arn, reason: 'gitlab-fargate gc: no live job owns this task' }, { deadlineMs: ctx.config.timeouts.stopTask * 1000 });
      ctx.log.progress(`stopped ${arn} (no live job, ${Math.round(ageSeconds)} s old)`);
      report.stopped.push(arn);
      const stale = staleByTask.get(arn);
      if (stale !== undefined && directory !== undefined) {
        if (stale.mux !== undefined) stopMultiplexer(stale.mux);
        removeState(statePath(directory, stale.runnerShortToken, stale.jobId));
        ctx.log.progress(`removed the stale state of job ${stale.jobId} (expired ${stale.expiresAt})`);
      }
    } catch (error) {
      ctx.log.error(`could not stop ${arn}: ${messageOf(error)}`);
      throw error;
    }
  }
  ctx.log.progress(`gc: ${report.stopped.length} ${options.dryRun ? 'to stop' : 'stopped'}, ${report.kept.length} kept`);
  return report;
}
