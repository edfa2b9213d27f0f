import type { Failure } from '@aws-sdk/client-ecs';

/** A RunTask `failures[]` entry, classified. */
export interface FailureReading {
  /** Worth trying again later (capacity or a concurrency quota). */
  readonly retryable: boolean;
  /** Specifically "no capacity": what a Spot → on-demand fallback can fix. */
  readonly capacity: boolean;
  /** The reason in words a person can act on, ECS's own text included. */
  readonly text: string;
}

/** Explains one RunTask failure (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html). */
export function readFailure(failure: Failure): FailureReading {
  const reason = failure.reason ?? 'unknown reason';
  const raw = failure.detail ? `${reason} (${failure.detail})` : reason;
  const lower = reason.toLowerCase();
  if (lower.startsWith('resource:')) {
    const what = reason.slice('RESOURCE:'.length);
    return { retryable: true, capacity: true, text: `not enough ${what} capacity to place the task right now [${raw}]` };
  }
  if (lower.includes('capacity is unavailable')) {
    return { retryable: true, capacity: true, text: `no Fargate capacity for this task size in the chosen subnets' zones right now [${raw}]` };
  }
  if (lower.includes('limit on the number of vcpus') || lower.includes('limit on the number of tasks')) {
    return {
      retryable: true,
      capacity: true,
      text: `the account's Fargate concurrency quota is used up; jobs will fit again as others finish, or raise the quota [${raw}]`,
    };
  }
  if (lower.includes('configuration is above your limit')) {
    return { retryable: false, capacity: false, text: `the task size is above what this AWS account may run on Fargate; choose a smaller size or ask AWS Support [${raw}]` };
  }
  if (reason === 'AGENT') {
    return { retryable: false, capacity: false, text: `the ECS agent that should run the task is not connected (an EC2 launch-type placement failure; check the cluster's capacity providers) [${raw}]` };
  }
  if (reason === 'ATTRIBUTE') {
    return { retryable: false, capacity: false, text: `no capacity matches the task definition's required attributes (e.g. CPU architecture) [${raw}]` };
  }
  if (reason === 'MISSING') {
    return { retryable: false, capacity: false, text: `a resource RunTask needs was not found [${raw}]` };
  }
  return { retryable: false, capacity: false, text: raw };
}
