import { DescribeTasksCommand, type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';

/** DescribeTasks takes at most this many tasks per call. */
const DESCRIBE_BATCH = 100;

/** Every task of `cluster` with this `startedBy` that ECS still lists (RUNNING desired status), all pages. */
export async function listTaskArns(ecs: ECSClient, cluster: string, startedBy: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, startedBy, nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return arns;
}

/** Describes tasks with their tags, in batches of 100; tasks ECS no longer knows are left out. */
export async function describeTasksWithTags(ecs: ECSClient, cluster: string, taskArns: readonly string[]): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < taskArns.length; i += DESCRIBE_BATCH) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + DESCRIBE_BATCH), include: ['TAGS'] }));
    tasks.push(...(out.tasks ?? []));
  }
  return tasks;
}

/** The value of one of a task's tags (described with `include: ['TAGS']`). */
export function tagOf(task: Task, key: string): string | undefined {
  return task.tags?.find((tag) => tag.key === key)?.value;
}
