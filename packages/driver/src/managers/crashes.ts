import { type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { describeTasksWithTags } from '../aws/task-listing.js';
import { taskIdOf } from './fleet.js';
import { type ControllerSettings, familyOf, familyRevision } from './settings.js';

/**
 * How far back a stopped manager counts as a recent crash. ECS shows a stopped task for at least an hour
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html), so the whole window is always
 * visible; every pass counts the same crash again, which makes the count a level (crashes in the last 30 minutes),
 * not a sum, and the alarm takes its maximum.
 */
export const CRASH_WINDOW_MS = 30 * 60_000;

/** A manager of the current revision that stopped on its own. */
export interface ManagerCrash {
  /** The task ID. */
  readonly id: string;
  /** ECS's stop code and reason, and the manager container's exit code when it had one. */
  readonly why: string;
}

/**
 * Whether a stopped manager crashed: it never started (an image that cannot be pulled, a missing secret:
 * `TaskFailedToStart`), or its container exited non-zero (or was killed). A manager that drained exits 0, and one
 * stopped by the controller, a deploy or a person is `UserInitiated`: none of these is a crash.
 */
function crashOf(task: Task, containerName: string): ManagerCrash | undefined {
  const container = task.containers?.find((candidate) => candidate.name === containerName);
  const exit = container?.exitCode;
  const failedToStart = task.stopCode === 'TaskFailedToStart';
  const exitedBadly = task.stopCode === 'EssentialContainerExited' && exit !== 0;
  if (!failedToStart && !exitedBadly) return undefined;
  const code = exit === undefined ? '' : `, exit code ${exit}`;
  return { id: taskIdOf(task), why: `${task.stopCode}: ${task.stoppedReason ?? 'no reason given'}${code}` };
}

/**
 * The managers of the current revision ({@link ControllerSettings.taskDefinition}) that crashed in the last
 * {@link CRASH_WINDOW_MS}: a new version whose managers keep crashing is restarted every minute by the controller
 * and never takes a job, while the old managers have drained.
 */
export async function recentCrashes(ecs: ECSClient, settings: ControllerSettings, now: number): Promise<ManagerCrash[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({ cluster: settings.cluster, family: familyOf(settings.taskDefinition), desiredStatus: 'STOPPED', nextToken }),
    );
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  const current = familyRevision(settings.taskDefinition);
  const crashes: ManagerCrash[] = [];
  for (const task of await describeTasksWithTags(ecs, settings.cluster, arns)) {
    const stoppedAt = task.stoppedAt?.getTime() ?? task.stoppingAt?.getTime();
    if (familyRevision(task.taskDefinitionArn ?? '') !== current || stoppedAt === undefined || now - stoppedAt > CRASH_WINDOW_MS) continue;
    const crash = crashOf(task, settings.containerName);
    if (crash !== undefined) crashes.push(crash);
  }
  return crashes;
}
