import { type DriverConfig, SSH_PUBLIC_KEY_VARIABLE } from '@gitlab-fargate/config';
import type { LaunchPlan, Placement } from '../aws/launch.js';
import type { CommandLineOverrides } from './command-line.js';
import { taskDefinitionForArchitecture } from './cpu-architecture.js';
import { deadlineTagValue } from './deadline.js';
import type { JobEnvironment } from './environment.js';
import type { JobOverrides } from './overrides.js';
import { taskSize } from './task-size.js';

/** Tag keys the driver puts on every task (besides the configured ones). */
export const TAG_KEYS = {
  jobId: 'gitlab-fargate:job-id',
  runner: 'gitlab-fargate:runner',
  project: 'gitlab-fargate:project',
  /** When the job can no longer be running (`job/deadline.ts`): the reaper stops the task only after it. */
  deadline: 'gitlab-fargate:deadline',
  /**
   * The runner manager (its ECS task ID, `JobEnvironment.managerId`) that started a job task: several managers share
   * one runner token, and so one `startedBy`, so the manager controller finds one manager's job tasks by it (to wait
   * for them before stopping an old manager, and to stop those of a manager that died). Only the driver sets it.
   */
  manager: 'gitlab-fargate:manager',
} as const;

/** The `startedBy` of every task a runner starts; `gc` lists tasks by it. */
export function startedByFor(runnerShortToken: string): string {
  const token = runnerShortToken.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) || 'unknown';
  return `gitlab-fargate/${token}`;
}

/** ECS tag values: letters, digits, spaces and `_.:/=+-@`, at most 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{N} _.:/=+\-@]/gu, '_').slice(0, 256);
}

/**
 * Decides the RunTask request for a job: the config, then the administrator's command-line flags, then the job's
 * (already policy-checked) overrides.
 */
export function planLaunch(
  config: DriverConfig,
  env: JobEnvironment,
  cli: CommandLineOverrides,
  overrides: JobOverrides,
  publicKey: string,
  clientTokenSeed: string,
  deadline?: Date,
): LaunchPlan {
  const f = config.fargate;
  let placement: Placement =
    f.capacityProviderStrategy.length > 0 ? { kind: 'strategy', strategy: f.capacityProviderStrategy.map((s) => ({ ...s })) } : { kind: 'launchType' };
  if (overrides.spot === true) placement = { kind: 'strategy', strategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }] };
  if (overrides.spot === false) placement = { kind: 'launchType' };

  const tags: Record<string, string> = { ...f.tags };
  // The reaper stops a task by this tag alone: only the driver, from the job's own timeout, may set it.
  delete tags[TAG_KEYS.deadline];
  delete tags[TAG_KEYS.manager];
  tags[TAG_KEYS.jobId] = env.jobId;
  tags[TAG_KEYS.runner] = tagValue(env.runnerShortToken);
  if (env.projectPath !== '') tags[TAG_KEYS.project] = tagValue(env.projectPath);
  if (deadline !== undefined) tags[TAG_KEYS.deadline] = tagValue(deadlineTagValue(deadline));
  if (env.managerId !== undefined) tags[TAG_KEYS.manager] = env.managerId;

  const platformVersion = overrides.platformVersion ?? cli.platformVersion ?? f.platformVersion;
  return {
    cluster: f.cluster,
    taskDefinition: overrides.taskDefinition
      ?? taskDefinitionForArchitecture(f, overrides.cpuArchitecture)
      ?? cli.taskDefinition
      ?? f.taskDefinition,
    ...(platformVersion !== undefined ? { platformVersion } : {}),
    subnets: f.subnets,
    securityGroups: f.securityGroups,
    assignPublicIp: f.enablePublicIp,
    placement,
    onDemandFallback: f.onDemandFallback,
    containerName: f.containerName,
    environment: { [SSH_PUBLIC_KEY_VARIABLE]: publicKey },
    ...taskSize(f, overrides),
    tags,
    propagateTags: f.propagateTags,
    enableEcsManagedTags: f.enableEcsManagedTags,
    enableExecuteCommand: f.enableExecuteCommand,
    startedBy: startedByFor(env.runnerShortToken),
    clientTokenSeed,
  };
}
