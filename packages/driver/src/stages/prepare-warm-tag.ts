import type { ECSClient } from '@aws-sdk/client-ecs';
import { POOL_TAG_KEYS } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';
import { describeAwsError } from '../aws/errors.js';
import { SystemFailure, messageOf } from '../errors.js';
import { MAX_JOB_TIMEOUT_SECONDS, deadlineTagValue, jobDeadline } from '../job/deadline.js';
import { TAG_KEYS } from '../job/plan.js';
import type { Logger } from '../log.js';
import { requestTag } from '../ssh/mux/client.js';
import type { MuxTagRequest, MuxTagResult } from '../ssh/mux/protocol.js';

// No static load of the AWS SDK here: the warm path hands its one TagResource to the job's multiplexer, which holds
// the SDK already, and loads the SDK (prepare-warm-tag-sdk.ts) itself only when the multiplexer does not answer.

/** What {@link tagClaimedTask} needs from the warm path. */
export interface ClaimTagInput {
  /** The ECS client prepare would use itself (created, the SDK loaded, on first call): only without a multiplexer. */
  readonly ecs: () => Promise<ECSClient>;
  /** The job's multiplexer socket, when prepare handed it the task. @default - none: prepare makes the call itself */
  readonly muxSocket?: string;
  /** The environment prepare's own SDK client reads (its process's). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `[Fargate] Region`, as prepare's client is created with. @default - the SDK's default */
  readonly region?: string;
  readonly taskArn: string;
  readonly jobId: string;
  /** The job's own plan: its job ID and project tags go onto the task. */
  readonly plan: LaunchPlan;
  /** The job's deadline (its timeout + grace); undefined when the timeout is unknown. */
  readonly deadline?: Date;
  /** When prepare started (ms). */
  readonly started: number;
  readonly log: Logger;
}

/**
 * One TagResource, once the job owns the task: the job's deadline replaces the idle one (so `gc` and the reaper judge
 * the task as the job's), and {@link POOL_TAG_KEYS.claimed}, the job ID and its project mark it as a job's. Made by
 * the job's multiplexer when it answers (so prepare loads no AWS SDK), else with prepare's own client. A failure
 * gives the task back (the caller stops it and tries another, or goes cold): with its idle deadline tag the orphan
 * reaper would stop it under the running job, and the manager controller would count it idle.
 */
export async function tagClaimedTask(input: ClaimTagInput): Promise<void> {
  const request = { resourceArn: input.taskArn, tags: claimTags(input) };
  const answer = input.muxSocket === undefined ? undefined : await tagThroughMultiplexer(input, input.muxSocket, request);
  if (answer === undefined) return tagWithOwnClient(input, request);
  if ('error' in answer) throw tagFailure(Object.assign(new Error(answer.error.message), { name: answer.error.name }));
}

/** Only POOL_CLAIM_TAG_KEYS: the manager's role may set no other key on a running task. */
function claimTags(input: ClaimTagInput): MuxTagRequest['tags'] {
  // No timeout known: the longest a job may run, as a job of unknown timeout can still be running until then.
  const deadline = input.deadline ?? (jobDeadline(input.started, MAX_JOB_TIMEOUT_SECONDS) as Date);
  const jobTags = [TAG_KEYS.jobId, TAG_KEYS.project].flatMap((key) => {
    const value = input.plan.tags[key];
    return value === undefined ? [] : [{ key, value }];
  });
  return [{ key: TAG_KEYS.deadline, value: deadlineTagValue(deadline) }, { key: POOL_TAG_KEYS.claimed, value: input.jobId }, ...jobTags];
}

/** The multiplexer's answer; `undefined` when it gave none (nothing sent, or its outcome unknown: tagging twice is harmless). */
async function tagThroughMultiplexer(
  input: ClaimTagInput,
  socket: string,
  call: Pick<MuxTagRequest, 'resourceArn' | 'tags'>,
): Promise<MuxTagResult | undefined> {
  // It was started with PATH alone: a CA bundle Node reads at its start only would be missing from its TLS.
  if (input.env.NODE_EXTRA_CA_CERTS !== undefined) return undefined;
  const region = input.region === undefined ? {} : { region: input.region };
  const request: MuxTagRequest = { ...call, env: sdkEnvironment(input.env), ...region };
  try {
    const answer = await requestTag(socket, request);
    input.log.debug("TagResource made by the job's multiplexer", { task: input.taskArn });
    return answer;
  } catch (error) {
    input.log.debug('TagResource with prepare\'s own client', { reason: messageOf(error) });
    return undefined;
  }
}

/** What of prepare's environment the AWS SDK reads: credentials, Region, endpoints, profiles and their files. */
function sdkEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const wanted = Object.entries(env).filter(([name, value]) => value !== undefined && (name.startsWith('AWS_') || name === 'HOME'));
  return Object.fromEntries(wanted) as Record<string, string>;
}

async function tagWithOwnClient(input: ClaimTagInput, request: Pick<MuxTagRequest, 'resourceArn' | 'tags'>): Promise<void> {
  const [ecs, { sendTagResource }] = await Promise.all([input.ecs(), import('./prepare-warm-tag-sdk.js')]);
  try {
    await sendTagResource(ecs, request);
  } catch (error) {
    throw tagFailure(error);
  }
}

function tagFailure(error: unknown): SystemFailure {
  return new SystemFailure(
    `could not tag it as this job's (with its idle deadline tag the orphan reaper would stop it under the job): ${describeAwsError(error)}`,
  );
}
