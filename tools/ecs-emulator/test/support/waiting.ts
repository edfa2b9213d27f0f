import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';

/** Polls DescribeTasks until `accept` holds for the task (tight, since the emulator's phases are short). */
export async function waitForTask(
  ecs: ECSClient,
  cluster: string,
  taskArn: string,
  accept: (task: Task) => boolean,
  timeoutMs = 30_000,
): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let last: Task | undefined;
  while (Date.now() < deadline) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    last = out.tasks?.[0];
    if (last && accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  const containers = (last?.containers ?? []).map((c) => `${c.name}=${c.lastStatus}(exit ${c.exitCode ?? '-'}${c.reason ? `, ${c.reason}` : ''})`);
  throw new Error(
    `Task ${taskArn} did not reach the expected state; last seen: ${last?.lastStatus}/${last?.desiredStatus} ${last?.stoppedReason ?? ''} [${containers.join('; ')}]`,
  );
}

export const isStopped = (task: Task) => task.lastStatus === 'STOPPED';
export const isRunning = (task: Task) => task.lastStatus === 'RUNNING';
