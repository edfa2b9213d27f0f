import type { LaunchPlan, Placement } from '../aws/launch.js';
import type { CommandLineOverrides } from '../job/command-line.js';

const TASK_DEFINITION_S = "the task definition's";

/** The parts of a RunTask plan that make its pool key (`pool-key.ts`), each as the job log names it. */
const PARTS: readonly (readonly [string, (plan: LaunchPlan) => string])[] = [
  ['task definition', (plan) => plan.taskDefinition],
  ['CPU', (plan) => (plan.cpu === undefined ? TASK_DEFINITION_S : `${plan.cpu} units`)],
  ['memory', (plan) => (plan.memory === undefined ? TASK_DEFINITION_S : `${plan.memory} MiB`)],
  ['ephemeral storage', (plan) => (plan.ephemeralStorageGiB === undefined ? TASK_DEFINITION_S : `${plan.ephemeralStorageGiB} GiB`)],
  ['capacity', (plan) => placementText(plan.placement)],
  ['on-demand fallback', (plan) => String(plan.onDemandFallback)],
  ['platform version', (plan) => plan.platformVersion ?? 'LATEST'],
  ['cluster', (plan) => plan.cluster],
  ['subnets', (plan) => [...plan.subnets].sort().join(',')],
  ['security groups', (plan) => [...plan.securityGroups].sort().join(',')],
  ['public IP', (plan) => String(plan.assignPublicIp)],
  ['ECS Exec', (plan) => String(plan.enableExecuteCommand)],
  ['container', (plan) => plan.containerName],
];

function placementText(placement: Placement): string {
  if (placement.kind === 'launchType') return 'launch type FARGATE';
  return placement.strategy.map((item) => `${item.capacityProvider}:${item.weight ?? 0}`).join(',');
}

/**
 * Why a job's RunTask does not match the pool tasks', in the job log's words: each part that differs with both
 * values (`CPU 2048 units here, the task definition's in the pool`), and, when a differing part comes from the runner's
 * `prepare_args` (`--task-def`, `--platform-version`), that the keeper never sees those flags. Empty when no part
 * differs.
 */
export function planDifference(job: LaunchPlan, pool: LaunchPlan, cli: CommandLineOverrides): string {
  const parts: string[] = [];
  for (const [name, text] of PARTS) {
    if (text(job) !== text(pool)) parts.push(`${name} ${text(job)} here, ${text(pool)} in the pool`);
  }
  const flags = [
    ...(cli.taskDefinition !== undefined && job.taskDefinition === cli.taskDefinition && job.taskDefinition !== pool.taskDefinition
      ? ['--task-def (set [Fargate] TaskDefinition instead)'] : []),
    ...(cli.platformVersion !== undefined && job.platformVersion === cli.platformVersion && job.platformVersion !== pool.platformVersion
      ? ['--platform-version (set [Fargate] PlatformVersion instead)'] : []),
  ];
  if (flags.length > 0) {
    parts.push(`the runner's prepare_args pass ${flags.join(' and ')}, which \`pool keep\` never sees: it starts tasks from the driver TOML alone`);
  }
  return parts.join('; ');
}
