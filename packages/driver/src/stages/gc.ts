import { DescribeTasksCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { stopTask } from '../aws/launch.js';
import { SystemFailure, messageOf } from '../errors.js';
import { startedByFor } from '../job/plan.js';
import { listStates } from '../job/state.js';
import type { StageContext } from './context.js';
import { resolve } from 'node:path';

/** Options of {@link gcStage}. */
export interface GcOptions {
  /** List, do not stop. */
  readonly dryRun: boolean;
  /** Leave tasks younger than this alone: they may be between RunTask and their state file. */
  readonly minAgeSeconds: number;
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
 * `CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN`, as in a job, so the manager can run it with the same environment.
 */
export async function gcStage(ctx: StageContext, options: GcOptions): Promise<GcReport> {
  const directory = ctx.config.taskMetadata.directory;
  if (directory === undefined) {
    throw new SystemFailure('gc needs [TaskMetadata] Directory: without a directory shared by all jobs it cannot tell live tasks from orphans');
  }
  if (ctx.env.runnerShortToken === 'unknown') {
    throw new SystemFailure('gc needs CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN (the runner short token) to find the tasks this runner started');
  }
  const now = options.now ?? Date.now;
  const clients = options.clients ?? createAwsClients(ctx.config.fargate.region);
  const cluster = ctx.config.fargate.cluster;
  const owned = new Set(listStates(resolve(ctx.cwd, directory)).flatMap((s) => (s.taskArn === undefined ? [] : [s.taskArn])));

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
    if (owned.has(arn) || ageSeconds < options.minAgeSeconds || task.desiredStatus === 'STOPPED') {
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
    } catch (error) {
      ctx.log.error(`could not stop ${arn}: ${messageOf(error)}`);
      throw error;
    }
  }
  ctx.log.progress(`gc: ${report.stopped.length} ${options.dryRun ? 'to stop' : 'stopped'}, ${report.kept.length} kept`);
  return report;
}
