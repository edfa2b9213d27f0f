import type { TaskUsage } from '../cost/estimate.js';
import { type JobRecord, timeOf } from './job-record.js';

/** How long each part of the job's start took, in seconds; a part whose ends are unknown is absent. */
export interface JobPhases {
  /** Prepare's start to SSH ready: how long the job waited for its machine. */
  readonly startLatency?: number;
  readonly launchTime?: number;
  readonly provisioningTime?: number;
  readonly imagePullTime?: number;
  readonly containerStartTime?: number;
  readonly readinessLag?: number;
}

function seconds(from: number | undefined, to: number | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  // ECS's clock and the runner's differ a little: a part that comes out negative took no measurable time.
  return Math.max(0, (to - from) / 1000);
}

/** The start's parts from the recorded times; `prepareStartedAt` is the state's `createdAt`. */
export function jobPhases(record: JobRecord, prepareStartedAt: number): JobPhases {
  const t = (key: keyof JobRecord) => timeOf(record[key] as string | undefined);
  const parts: Record<keyof JobPhases, number | undefined> = {
    startLatency: seconds(prepareStartedAt, t('readyAt')),
    launchTime: seconds(prepareStartedAt, t('runTaskReturnedAt')),
    provisioningTime: seconds(t('taskCreatedAt'), t('pullStartedAt')),
    imagePullTime: seconds(t('pullStartedAt'), t('pullStoppedAt')),
    containerStartTime: seconds(t('pullStoppedAt'), t('taskStartedAt')),
    readinessLag: seconds(t('taskStartedAt') ?? t('runningSeenAt'), t('readyAt')),
  };
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined)) as JobPhases;
}

/** The region in a task ARN (`arn:aws:ecs:REGION:ACCOUNT:task/...`). */
export function regionOfArn(taskArn: string | undefined): string | undefined {
  const region = taskArn?.split(':')[3];
  return region !== undefined && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? region : undefined;
}

/**
 * What Fargate bills for the task up to `until` (ms): from the image pull's start (AWS bills from there), else from
 * the earliest moment known; for a warm start from the claim (the idle time before it is the pool's cost).
 * `undefined` before RunTask answered with the task's size, and for a warm task whose entry recorded none.
 */
export function taskUsage(record: JobRecord, taskArn: string | undefined, until: number): TaskUsage | undefined {
  const from = timeOf(record.claimedAt ?? record.pullStartedAt ?? record.taskCreatedAt ?? record.runTaskReturnedAt ?? record.runTaskSentAt);
  if (from === undefined || record.cpu === undefined || record.memoryMiB === undefined) return undefined;
  const region = regionOfArn(taskArn);
  return {
    cpuUnits: record.cpu,
    memoryMiB: record.memoryMiB,
    ephemeralGiB: record.ephemeralGiB ?? 20,
    capacity: record.capacity ?? 'FARGATE',
    architecture: record.architecture ?? 'X86_64',
    ...(region !== undefined ? { region } : {}),
    billedFrom: from,
    until,
  };
}
