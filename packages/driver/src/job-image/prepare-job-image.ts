import { DescribeTaskDefinitionCommand, type ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import { DEFAULT_BUILDS_DIR, type DriverConfig } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';
import { describeAwsError } from '../aws/errors.js';
import { ensureTaskDefinition } from '../aws/task-definitions.js';
import { SystemFailure } from '../errors.js';
import type { JobEnvironment } from '../job/environment.js';
import type { Logger } from '../log.js';
import type { Sleep } from '../sleep.js';
import { derivedTaskOverrides } from './overrides.js';
import type { JobImageRequest } from './payload.js';
import { type JobImagePlan, planJobImage } from './plan.js';
import { servicePorts } from './service-ports.js';
import type { WaitedService } from './services-wait.js';

/** A job image's RunTask plan, and what the later steps of prepare need to know of it. */
export interface JobImageLaunch {
  readonly plan: LaunchPlan;
  readonly family: string;
  /** `build` when the job named an image; absent for services beside the helper only. */
  readonly buildContainerName?: string;
  readonly services: readonly WaitedService[];
}

/** What {@link planJobImageLaunch} needs. */
export interface JobImageLaunchInput {
  readonly ecs: ECSClient;
  readonly config: DriverConfig;
  readonly env: JobEnvironment;
  readonly request: JobImageRequest;
  /** The plain plan: its task definition is the template, its environment the helper's. */
  readonly plan: LaunchPlan;
  readonly publicKey: string;
  /** `<[TaskMetadata] Directory>/task-definitions.json`: outlives jobs. */
  readonly cacheFile: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly sleep: Sleep;
}

async function describeTemplate(ecs: ECSClient, taskDefinition: string, signal: AbortSignal): Promise<TaskDefinition> {
  try {
    const { taskDefinition: template } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal });
    if (template !== undefined) return template;
  } catch (error) {
    signal.throwIfAborted();
    throw new SystemFailure(`cannot describe the task definition ${taskDefinition} that job images derive from: ${describeAwsError(error)}`, { cause: error });
  }
  throw new SystemFailure(`DescribeTaskDefinition answered without task definition ${taskDefinition}`);
}

/** The build container's per-job values: the job key, the services' host names and the job user. */
function buildOverride(containerName: string, sshPublicKey: string, jobPlan: JobImagePlan) {
  return { containerName, sshPublicKey, hostnames: jobPlan.hostnames, ...(jobPlan.user === undefined ? {} : { user: jobPlan.user }) };
}

/** RunTask's per-container overrides for the plan; refuses (LimitExceeded) before anything is registered. */
function overridesFor(input: JobImageLaunchInput, jobPlan: JobImagePlan) {
  const { plan, publicKey } = input;
  const { derived } = jobPlan;
  return derivedTaskOverrides({
    task: {
      ...(plan.cpu === undefined ? {} : { cpu: plan.cpu }),
      ...(plan.memory === undefined ? {} : { memory: plan.memory }),
      ...(plan.ephemeralStorageGiB === undefined ? {} : { ephemeralStorage: { sizeInGiB: plan.ephemeralStorageGiB } }),
    },
    helperContainerName: derived.helperContainerName,
    helperEnvironment: plan.environment,
    ...(derived.buildContainerName === undefined ? {} : { build: buildOverride(derived.buildContainerName, publicKey, jobPlan) }),
    services: jobPlan.services,
  });
}

/**
 * Plans the job's task from its image and services: describes the configured task definition, checks and derives
 * (allow-lists, limits, port clashes, the overrides' size: every refusal before any registration or task), then
 * finds or registers the derived definition. Prints the image, the family and how it was found.
 */
export async function planJobImageLaunch(input: JobImageLaunchInput): Promise<JobImageLaunch> {
  const { config, log, request } = input;
  const template = await describeTemplate(input.ecs, input.plan.taskDefinition, input.signal);
  const jobPlan = planJobImage({
    request,
    settings: config.jobImages,
    template,
    helperContainerName: config.fargate.containerName,
    buildsDir: input.env.variables.get('CI_BUILDS_DIR') ?? DEFAULT_BUILDS_DIR,
  }) as JobImagePlan;
  for (const warning of jobPlan.warnings) log.warn(warning);
  const overrides = overridesFor(input, jobPlan);
  for (const dropped of overrides.dropped) log.warn(`left out of a service's environment to fit RunTask's 8 192 characters: ${dropped}`);
  const ensured = await ensureTaskDefinition(input.ecs, jobPlan.derived, {
    cacheFile: input.cacheFile,
    signal: input.signal,
    sleep: input.sleep,
    progress: (line) => log.progress(line),
  });
  const what = [
    ...(request.image === undefined ? [] : [`image ${request.image.name}`]),
    ...request.services.map((service) => `service ${service.name}`),
  ].join(', ');
  log.progress(`Job ${what}: task definition ${ensured.family} (${ensured.source})`);
  return {
    plan: { ...input.plan, taskDefinition: ensured.arn, containerOverrides: overrides.overrides.containerOverrides ?? [] },
    family: ensured.family,
    ...(jobPlan.derived.buildContainerName === undefined ? {} : { buildContainerName: jobPlan.derived.buildContainerName }),
    services: request.services.map((service, index) => ({
      containerName: jobPlan.derived.serviceContainerNames[index] as string,
      image: service.name,
      ports: servicePorts(service),
    })),
  };
}
