import { type ECSClient, TagResourceCommand } from '@aws-sdk/client-ecs';
import { POOL_TAG_KEYS } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';
import { describeAwsError } from '../aws/errors.js';
import { SystemFailure } from '../errors.js';
import { MAX_JOB_TIMEOUT_SECONDS, deadlineTagValue, jobDeadline } from '../job/deadline.js';
import { TAG_KEYS } from '../job/plan.js';

// Apart from `prepare-warm.ts`, which loads it only once it holds a task: the claim itself loads no AWS SDK.

/** What {@link tagClaimedTask} needs from the warm path. */
export interface ClaimTagInput {
  readonly ecs: ECSClient;
  readonly taskArn: string;
  readonly jobId: string;
  /** The job's own plan: its job ID and project tags go onto the task. */
  readonly plan: LaunchPlan;
  /** The job's deadline (its timeout + grace); undefined when the timeout is unknown. */
  readonly deadline?: Date;
  /** When prepare started (ms). */
  readonly started: number;
}

/**
 * One TagResource, once the job owns the task: the job's deadline replaces the idle one (so `gc` and the reaper judge
 * the task as the job's), and {@link POOL_TAG_KEYS.claimed}, the job ID and its project mark it as a job's. A failure
 * gives the task back (the caller stops it and tries another, or goes cold): with its idle deadline tag the orphan
 * reaper would stop it under the running job, and the manager controller would count it idle.
 */
export async function tagClaimedTask(input: ClaimTagInput): Promise<void> {
  const { plan } = input;
  // No timeout known: the longest a job may run, as a job of unknown timeout can still be running until then.
  const deadline = input.deadline ?? (jobDeadline(input.started, MAX_JOB_TIMEOUT_SECONDS) as Date);
  const jobTags = [TAG_KEYS.jobId, TAG_KEYS.project].flatMap((key) => {
    const value = plan.tags[key];
    return value === undefined ? [] : [{ key, value }];
  });
  // Only POOL_CLAIM_TAG_KEYS: the manager's role may set no other key on a running task.
  const tags = [
    { key: TAG_KEYS.deadline, value: deadlineTagValue(deadline) },
    { key: POOL_TAG_KEYS.claimed, value: input.jobId },
    ...jobTags,
  ];
  try {
    await input.ecs.send(new TagResourceCommand({ resourceArn: input.taskArn, tags }));
  } catch (error) {
    throw new SystemFailure(
      `could not tag it as this job's (with its idle deadline tag the orphan reaper would stop it under the job): ${describeAwsError(error)}`,
    );
  }
}
