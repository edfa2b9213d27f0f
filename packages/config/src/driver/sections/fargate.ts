import { fargateMemoryFor, isValidFargateSize } from '../../aws/fargate-sizing.js';
import { JOB_CONTAINER_NAME } from '../../contract/job-container.js';
import { CLUSTER_PATTERN, CONTAINER_NAME_PATTERN, ECS_LIMITS, PLATFORM_VERSION_PATTERN, REGION_PATTERN, TASK_DEFINITION_PATTERN } from '../../aws/shapes.js';
import { child, type At, type Checker } from '../../schema/checker.js';
import { boolean, list, map, refine, section, string, type Schema } from '../../schema/schema.js';
import type { CapacityProviderStrategyItem, FargateSettings } from '../model.js';
import { capacityProviderStrategy } from './strategy.js';
import { ephemeralStorage, fargateCpu, fargateMemory, orEmpty, securityGroupId, subnetId, tagKey, tagValue } from './values.js';

/** The `[Fargate]` table as written: upstream's singular and plural keys side by side. */
interface FargateRaw {
  cluster: string;
  region: string;
  subnet: string;
  subnets?: string[];
  securityGroup: string;
  securityGroups?: string[];
  taskDefinition: string;
  arm64TaskDefinition: string;
  enablePublicIp: boolean;
  usePublicIp?: boolean;
  platformVersion: string;
  cpu?: number;
  memory?: number;
  ephemeralStorage?: number;
  enableExecuteCommand: boolean;
  containerName: string;
  capacityProviderStrategy: CapacityProviderStrategyItem[];
  onDemandFallback: boolean;
  tags: Record<string, string>;
  propagateTags: FargateSettings['propagateTags'];
  enableEcsManagedTags: boolean;
}

/** Cpu and Memory override the task definition together, and only as a size Fargate offers. */
function checkTaskSize(raw: Partial<FargateRaw>, failed: ReadonlySet<keyof FargateRaw>, at: At, checker: Checker): boolean {
  if (failed.has('cpu') || failed.has('memory')) return true; // already reported
  const { cpu, memory } = raw;
  if (cpu === undefined && memory === undefined) return true;
  if (cpu === undefined || memory === undefined) {
    const [given, missing] = cpu === undefined ? ['Memory', 'Cpu'] : ['Cpu', 'Memory'];
    checker.error(child(at, missing, missing), `${missing} together with ${given}`, 'nothing', `Fargate sizes are cpu/memory pairs: add ${missing}`);
    return false;
  }
  if (isValidFargateSize(cpu, memory)) return true;
  checker.error(child(at, 'Memory', 'Memory'), `a memory size Fargate offers with Cpu = ${cpu}: ${fargateMemoryFor(cpu).join(', ')}`, `${memory} (an integer)`);
  return false;
}

/** Upstream's singular key and MR !81's plural one: either may be used, not both. */
function checkSingularPlural(raw: Partial<FargateRaw>, failed: ReadonlySet<keyof FargateRaw>, at: At, checker: Checker, singular: 'subnet' | 'securityGroup'): boolean {
  const pluralProp = singular === 'subnet' ? 'subnets' : 'securityGroups';
  if (failed.has(singular) || failed.has(pluralProp)) return true; // already reported
  const [one, many] = singular === 'subnet' ? ['Subnet', 'Subnets'] : ['SecurityGroup', 'SecurityGroups'];
  const single = raw[singular] ?? '';
  const plural = raw[pluralProp];
  if (plural !== undefined && single !== '') {
    checker.error(child(at, one, one), `either ${one} or ${many}`, 'both', `move ${JSON.stringify(single)} into ${many} and remove ${one}`);
    return false;
  }
  if (singular === 'subnet' && plural === undefined && single === '') {
    checker.error(child(at, 'Subnets', 'Subnets'), 'at least one subnet in Subnets (or Subnet)', 'none', 'Fargate tasks need a subnet for their network interface');
    return false;
  }
  return true;
}

function merged(single: string, plural: string[] | undefined): string[] {
  return plural ?? (single === '' ? [] : [single]);
}

/** `[Fargate]`: how tasks are launched and reached. */
export const fargate: Schema<FargateSettings> = refine(
  section<FargateRaw>(
    {
      cluster: { key: 'Cluster', schema: string({ pattern: CLUSTER_PATTERN, expected: 'an ECS cluster name or ARN' }), required: true },
      region: { key: 'Region', schema: orEmpty(string({ pattern: REGION_PATTERN, expected: 'an AWS Region like "eu-west-1"' })), default: '' },
      subnet: { key: 'Subnet', schema: orEmpty(subnetId), default: '' },
      subnets: { key: 'Subnets', schema: list(subnetId, { min: 1, max: ECS_LIMITS.maxSubnets, unique: true }) },
      securityGroup: { key: 'SecurityGroup', schema: orEmpty(securityGroupId), default: '' },
      securityGroups: { key: 'SecurityGroups', schema: list(securityGroupId, { max: ECS_LIMITS.maxSecurityGroups, unique: true }) },
      taskDefinition: { key: 'TaskDefinition', schema: string({ pattern: TASK_DEFINITION_PATTERN, expected: 'a task definition family, family:revision or ARN' }), required: true },
      arm64TaskDefinition: { key: 'Arm64TaskDefinition', schema: orEmpty(string({ pattern: TASK_DEFINITION_PATTERN, expected: 'the ARM64 task definition: family, family:revision or ARN' })), default: '' },
      enablePublicIp: { key: 'EnablePublicIP', schema: boolean(), default: false },
      usePublicIp: { key: 'UsePublicIP', schema: boolean() },
      platformVersion: { key: 'PlatformVersion', schema: orEmpty(string({ pattern: PLATFORM_VERSION_PATTERN, expected: '"LATEST" or a version like "1.4.0"' })), default: '' },
      cpu: { key: 'Cpu', schema: fargateCpu },
      memory: { key: 'Memory', schema: fargateMemory },
      ephemeralStorage: { key: 'EphemeralStorage', schema: ephemeralStorage },
      enableExecuteCommand: { key: 'EnableExecuteCommand', schema: boolean(), default: false },
      containerName: { key: 'ContainerName', schema: string({ pattern: CONTAINER_NAME_PATTERN, expected: 'a container name (letters, digits, _ and -)' }), default: JOB_CONTAINER_NAME },
      capacityProviderStrategy: {
        key: 'CapacityProviderStrategy',
        schema: capacityProviderStrategy,
        default: [],
      },
      onDemandFallback: { key: 'OnDemandFallback', schema: boolean(), default: true },
      tags: { key: 'Tags', schema: map(tagValue, { key: tagKey, maxEntries: ECS_LIMITS.maxTags, expected: 'a table of tag = "value"' }), default: {} },
      propagateTags: { key: 'PropagateTags', schema: string({ oneOf: ['TASK_DEFINITION', 'NONE'] }) as Schema<FargateSettings['propagateTags']>, default: 'NONE' },
      enableEcsManagedTags: { key: 'EnableECSManagedTags', schema: boolean(), default: false },
    },
    {
      expected: 'a [Fargate] table',
      check: (raw, failed, at, checker) =>
        [checkSingularPlural(raw, failed, at, checker, 'subnet'), checkSingularPlural(raw, failed, at, checker, 'securityGroup'), checkTaskSize(raw, failed, at, checker)].every(Boolean),
    },
  ),
  (raw): FargateSettings => {
    return {
      cluster: raw.cluster,
      ...(raw.region === '' ? {} : { region: raw.region }),
      subnets: merged(raw.subnet, raw.subnets),
      securityGroups: merged(raw.securityGroup, raw.securityGroups),
      taskDefinition: raw.taskDefinition,
      ...(raw.arm64TaskDefinition === '' ? {} : { arm64TaskDefinition: raw.arm64TaskDefinition }),
      enablePublicIp: raw.enablePublicIp,
      usePublicIp: raw.usePublicIp ?? raw.enablePublicIp,
      ...(raw.platformVersion === '' ? {} : { platformVersion: raw.platformVersion }),
      ...(raw.cpu === undefined ? {} : { cpu: raw.cpu }),
      ...(raw.memory === undefined ? {} : { memory: raw.memory }),
      ...(raw.ephemeralStorage === undefined ? {} : { ephemeralStorage: raw.ephemeralStorage }),
      enableExecuteCommand: raw.enableExecuteCommand,
      containerName: raw.containerName,
      capacityProviderStrategy: raw.capacityProviderStrategy,
      onDemandFallback: raw.onDemandFallback,
      tags: raw.tags,
      propagateTags: raw.propagateTags,
      enableEcsManagedTags: raw.enableEcsManagedTags,
    };
  },
);
