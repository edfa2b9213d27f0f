import { AwsError, invalidParameter } from '../wire/aws-error.js';
import { optInt, optString, optStringList, reqString, type Input } from '../wire/input.js';
import { paginate } from '../wire/pagination.js';
import { activeCluster } from './clusters.js';
import type { ServiceContext } from './context.js';
import { parseTaskDefinitionReference, taskArn, taskIdOf } from './identifiers.js';
import type { Cluster, Task } from './model.js';
import type { TaskRecord } from './store.js';

/** A task of this cluster that is still describable, by id or ARN. */
function findTask(ctx: ServiceContext, cluster: Cluster, reference: string): TaskRecord | undefined {
  const record = ctx.store.tasks.get(taskIdOf(reference));
  if (!record || record.task.clusterArn !== cluster.clusterArn) return undefined;
  if (record.expiresAt !== undefined && record.expiresAt <= ctx.now()) return undefined;
  return record;
}

/** The task as responses show it: a snapshot, with tags only where asked for. */
export function taskView(task: Task, includeTags: boolean): Task {
  const copy = structuredClone(task);
  if (!includeTags) copy.tags = [];
  return copy;
}

export function describeTasks(ctx: ServiceContext, input: Input): unknown {
  const cluster = activeCluster(ctx, optString(input, 'cluster'));
  const references = optStringList(input, 'tasks');
  if (!references || references.length === 0) throw invalidParameter('Tasks cannot be empty.');
  if (references.length > 100) throw invalidParameter('Tasks can have at most 100 items.');
  const includeTags = (optStringList(input, 'include') ?? []).includes('TAGS');
  const tasks: Task[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const reference of references) {
    const record = findTask(ctx, cluster, reference);
    if (record && record.missingDescribesLeft > 0) record.missingDescribesLeft -= 1;
    else if (record) {
      tasks.push(taskView(record.task, includeTags));
      continue;
    }
    failures.push({ arn: taskArn(ctx.scope, cluster.clusterName, taskIdOf(reference)), reason: 'MISSING' });
  }
  return { tasks, failures };
}

export function stopTask(ctx: ServiceContext, input: Input): unknown {
  const cluster = activeCluster(ctx, optString(input, 'cluster'));
  const reference = reqString(input, 'task');
  const reason = optString(input, 'reason');
  if (reason !== undefined && reason.length > 255) throw invalidParameter('reason can be at most 255 characters.');
  const record = findTask(ctx, cluster, reference);
  if (!record) throw invalidParameter('The referenced task was not found.');
  record.runtime.stop('UserInitiated', reason);
  return { task: taskView(record.task, false) };
}

export function listTasks(ctx: ServiceContext, input: Input): unknown {
  const cluster = activeCluster(ctx, optString(input, 'cluster'));
  const startedBy = optString(input, 'startedBy');
  const family = optString(input, 'family');
  const serviceName = optString(input, 'serviceName');
  const containerInstance = optString(input, 'containerInstance');
  const launchType = optString(input, 'launchType');
  const desiredStatus = optString(input, 'desiredStatus') ?? 'RUNNING';
  if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desiredStatus)) throw invalidParameter(`Invalid desiredStatus '${desiredStatus}'.`);
  // Model doc: "When you specify startedBy as the filter, it must be the only filter that you use."
  // desiredStatus is accepted beside it, as reaping scripts in the wild use it.
  if (startedBy !== undefined && (family ?? serviceName ?? containerInstance ?? launchType) !== undefined) {
    throw invalidParameter('When you specify startedBy as the filter, it must be the only filter that you use.');
  }
  if (serviceName !== undefined) {
    throw new AwsError('ServiceNotFoundException', 'Service not found.');
  }
  const arns = ctx.store
    .liveTasks(ctx.now())
    .map(({ task }) => task)
    .filter((task) => task.clusterArn === cluster.clusterArn)
    .filter((task) => task.desiredStatus === desiredStatus)
    .filter((task) => startedBy === undefined || task.startedBy === startedBy)
    .filter((task) => family === undefined || parseTaskDefinitionReference(task.taskDefinitionArn).family === family)
    .filter((task) => launchType === undefined || task.launchType === launchType)
    // Fargate tasks run on no container instance, so that filter matches none of them.
    .filter(() => containerInstance === undefined)
    .map((task) => task.taskArn);
  const { page, nextToken } = paginate(arns, optInt(input, 'maxResults'), optString(input, 'nextToken'));
  return { taskArns: page, ...(nextToken ? { nextToken } : {}) };
}
