import { DescribeTasksCommand, type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { POOL_TAG_KEYS } from '@gitlab-fargate/config';
import { describeTasksWithTags, tagOf } from '../aws/task-listing.js';
import { TAG_KEYS } from '../job/plan.js';
import { type ControllerSettings, familyOf } from './settings.js';

/** The `startedBy` prefix of every job task a driver starts (`startedByFor` in job/plan.ts). */
const JOB_STARTED_BY_PREFIX = 'gitlab-fargate/';

/** What the controller sees in the environment's cluster. */
export interface Fleet {
  /** Tasks of the manager family that are to keep running (desired status RUNNING), whatever their revision. */
  readonly managers: readonly Task[];
  /**
   * Job tasks still to run (desired status RUNNING), by the manager task ID of their `gitlab-fargate:manager` tag;
   * idle warm-pool tasks are not jobs ({@link isIdlePoolTask}).
   */
  readonly jobsByManager: ReadonlyMap<string, readonly Task[]>;
}

/** The task ID: the last part of a task ARN. */
export function taskIdOf(task: Task): string {
  const arn = task.taskArn ?? '';
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/**
 * Lists the cluster's tasks once and sorts out the managers (by family) and the job tasks that name their manager.
 * Tasks of other families without the manager tag (the orphan reaper, the controller, other runners' jobs) are left
 * out; so are job tasks a driver did not start (their `startedBy` is not the driver's).
 */
export async function observeFleet(ecs: ECSClient, settings: ControllerSettings): Promise<Fleet> {
  const family = familyOf(settings.taskDefinition);
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster: settings.cluster, desiredStatus: 'RUNNING', nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  const tasks = await describeTasksWithTags(ecs, settings.cluster, arns);
  const running = tasks.filter((task) => task.desiredStatus === 'RUNNING');
  const managers = running.filter((task) => familyOf(task.taskDefinitionArn ?? '') === family);
  const jobsByManager = new Map<string, Task[]>();
  for (const task of running) {
    const manager = tagOf(task, TAG_KEYS.manager);
    if (manager === undefined || !(task.startedBy ?? '').startsWith(JOB_STARTED_BY_PREFIX) || isIdlePoolTask(task)) continue;
    jobsByManager.set(manager, [...(jobsByManager.get(manager) ?? []), task]);
  }
  return { managers, jobsByManager };
}

/**
 * An idle warm-pool task (the keeper's tag, no job's claim tag): not a job. A manager being drained need not wait for
 * it, nor is it stopped with a dead manager's jobs: it stops with its keeper, or by its own idle watchdog at its idle
 * deadline. A claimed pool task is a job's like any other.
 */
export function isIdlePoolTask(task: Task): boolean {
  return tagOf(task, POOL_TAG_KEYS.pool) !== undefined && tagOf(task, POOL_TAG_KEYS.claimed) === undefined;
}

/**
 * Of the manager task IDs job tasks name but no running manager has, those that were managers of this family and
 * have stopped (ECS reports them STOPPED, not merely told to stop): their job tasks can no longer finish. An ID ECS
 * no longer knows (stopped over an hour ago) or that is
 * not of this family is left to the orphan reaper, which goes by each job's deadline.
 */
export async function deadManagers(ecs: ECSClient, settings: ControllerSettings, fleet: Fleet): Promise<string[]> {
  const live = new Set(fleet.managers.map(taskIdOf));
  const unknown = [...fleet.jobsByManager.keys()].filter((id) => !live.has(id));
  const family = familyOf(settings.taskDefinition);
  const dead: string[] = [];
  for (let i = 0; i < unknown.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster: settings.cluster, tasks: unknown.slice(i, i + 100) }));
    for (const task of out.tasks ?? []) {
      // Stopped, not stopping: a manager stopped by hand still finishes its jobs within its stop timeout (SIGQUIT).
      if (task.lastStatus === 'STOPPED' && familyOf(task.taskDefinitionArn ?? '') === family) dead.push(taskIdOf(task));
    }
  }
  return dead;
}

/** The subnet a task was placed in (its ENI attachment's `subnetId`). */
export function subnetOf(task: Task): string | undefined {
  const eni = task.attachments?.find((attachment) => attachment.type === 'ElasticNetworkInterface');
  return eni?.details?.find((detail) => detail.name === 'subnetId')?.value;
}
