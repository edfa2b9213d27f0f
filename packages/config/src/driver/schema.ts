import {
  CLUSTER_PATTERN,
  CONTAINER_NAME_PATTERN,
  ECS_LIMITS,
  FARGATE_CAPACITY_PROVIDERS,
  PLATFORM_VERSION_PATTERN,
  REGION_PATTERN,
  SECURITY_GROUP_PATTERN,
  SECURITY_GROUP_STRICT_PATTERN,
  SUBNET_PATTERN,
  SUBNET_STRICT_PATTERN,
  TAG_PATTERN,
  TASK_DEFINITION_PATTERN,
} from '../aws/shapes.js';
import { EPHEMERAL_STORAGE_GIB, FARGATE_CPU_VALUES, FARGATE_MEMORY_VALUES, fargateMemoryFor, isValidFargateSize } from '../aws/fargate-sizing.js';
import { child, element, type At, type Checker } from '../schema/checker.js';
import { boolean, decimal, integer, list, map, refine, section, string, type Schema } from '../schema/schema.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type CapacityProviderStrategyItem,
  type DriverConfig,
  type FargateSettings,
  type LogFormat,
  type OverridePolicy,
  type SshSettings,
  type TaskMetadataSettings,
  type TimeoutSettings,
} from './model.js';

/** Upstream wrote `""` for "not set"; such values are read as absent. */
function orEmpty(schema: Schema<string>): Schema<string> {
  return {
    expected: `${schema.expected} (or "" for none)`,
    read: (value, at, checker) => (value === '' ? '' : schema.read(value, at, checker)),
  };
}

const subnetId = string({
  pattern: SUBNET_PATTERN,
  expected: 'a subnet id like "subnet-0123456789abcdef0"',
  warnUnless: { pattern: SUBNET_STRICT_PATTERN, expected: 'subnet- followed by 8 or 17 lowercase hex digits', hint: 'AWS will reject an id it never issued' },
});
const securityGroupId = string({
  pattern: SECURITY_GROUP_PATTERN,
  expected: 'a security group id like "sg-0123456789abcdef0"',
  warnUnless: { pattern: SECURITY_GROUP_STRICT_PATTERN, expected: 'sg- followed by 8 or 17 lowercase hex digits', hint: 'AWS will reject an id it never issued' },
});

const logLevelName = string({ oneOf: LOG_LEVELS }) as Schema<DriverConfig['logLevel']>;
/** logrus reads `warn` as `warning`. */
const logLevel: Schema<DriverConfig['logLevel']> = {
  expected: logLevelName.expected,
  read: (value, at, checker) => logLevelName.read(typeof value === 'string' && value.toLowerCase() === 'warn' ? 'warning' : value, at, checker),
};

const strategyItem = section<CapacityProviderStrategyItem>(
  {
    capacityProvider: { key: 'CapacityProvider', schema: string({ oneOf: FARGATE_CAPACITY_PROVIDERS }) as Schema<CapacityProviderStrategyItem['capacityProvider']>, required: true },
    weight: { key: 'Weight', schema: integer({ min: 0, max: ECS_LIMITS.maxCapacityProviderWeight }), default: 1 },
    base: { key: 'Base', schema: integer({ min: 0, max: ECS_LIMITS.maxCapacityProviderBase }), default: 0 },
  },
  { expected: 'a table with CapacityProvider, Weight and Base' },
);

/** ECS's own rules for a strategy, checked here so a bad one fails at startup rather than in every job. */
function checkStrategy(items: CapacityProviderStrategyItem[], at: At, checker: Checker): CapacityProviderStrategyItem[] | undefined {
  let valid = true;
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.capacityProvider)) {
      checker.error(element(at, index), 'each capacity provider once', `a second ${item.capacityProvider}`);
      valid = false;
    }
    seen.add(item.capacityProvider);
  });
  const withBase = items.filter((item) => item.base > 0);
  if (withBase.length > 1) {
    checker.error(element(at, items.indexOf(withBase[1] as CapacityProviderStrategyItem)), 'Base > 0 on at most one capacity provider', `Base on ${withBase.length} providers`);
    valid = false;
  }
  if (items.length > 0 && items.every((item) => item.weight === 0)) {
    checker.error(at, 'at least one capacity provider with Weight > 0', 'every Weight = 0');
    valid = false;
  }
  return valid ? items : undefined;
}

const tagKey = string({ maxLength: ECS_LIMITS.maxTagKeyLength, pattern: /^(?![aA][wW][sS]:)[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, expected: 'a tag key of letters, digits, spaces and _.:/=+-@, not starting with "aws:"' });
const tagValue = string({ minLength: 0, maxLength: ECS_LIMITS.maxTagValueLength, pattern: TAG_PATTERN, expected: 'a tag value of letters, digits, spaces and _.:/=+-@' });

/** The `[Fargate]` table as written: upstream's singular and plural keys side by side. */
interface FargateRaw {
  cluster: string;
  region: string;
  subnet: string;
  subnets?: string[];
  securityGroup: string;
  securityGroups?: string[];
  taskDefinition: string;
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

const fargateCpu: Schema<number> = refine(integer({ min: 0, max: Number.MAX_SAFE_INTEGER, expected: `Fargate CPU units: one of ${FARGATE_CPU_VALUES.join(', ')}` }), (cpu, at, checker) =>
  FARGATE_CPU_VALUES.includes(cpu) ? cpu : void checker.error(at, `Fargate CPU units: one of ${FARGATE_CPU_VALUES.join(', ')}`, `${cpu} (an integer)`),
);
const fargateMemory = integer({ min: FARGATE_MEMORY_VALUES[0] as number, max: FARGATE_MEMORY_VALUES.at(-1) as number, expected: 'MiB from 512 to 122880' });
const ephemeralStorage = integer({ min: EPHEMERAL_STORAGE_GIB.min, max: EPHEMERAL_STORAGE_GIB.max, expected: `GiB from ${EPHEMERAL_STORAGE_GIB.min} to ${EPHEMERAL_STORAGE_GIB.max}` });

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

const fargate = refine(
  section<FargateRaw>(
    {
      cluster: { key: 'Cluster', schema: string({ pattern: CLUSTER_PATTERN, expected: 'an ECS cluster name or ARN' }), required: true },
      region: { key: 'Region', schema: orEmpty(string({ pattern: REGION_PATTERN, expected: 'an AWS Region like "eu-west-1"' })), default: '' },
      subnet: { key: 'Subnet', schema: orEmpty(subnetId), default: '' },
      subnets: { key: 'Subnets', schema: list(subnetId, { min: 1, max: ECS_LIMITS.maxSubnets, unique: true }) },
      securityGroup: { key: 'SecurityGroup', schema: orEmpty(securityGroupId), default: '' },
      securityGroups: { key: 'SecurityGroups', schema: list(securityGroupId, { max: ECS_LIMITS.maxSecurityGroups, unique: true }) },
      taskDefinition: { key: 'TaskDefinition', schema: string({ pattern: TASK_DEFINITION_PATTERN, expected: 'a task definition family, family:revision or ARN' }), required: true },
      enablePublicIp: { key: 'EnablePublicIP', schema: boolean(), default: false },
      usePublicIp: { key: 'UsePublicIP', schema: boolean() },
      platformVersion: { key: 'PlatformVersion', schema: orEmpty(string({ pattern: PLATFORM_VERSION_PATTERN, expected: '"LATEST" or a version like "1.4.0"' })), default: '' },
      cpu: { key: 'Cpu', schema: fargateCpu },
      memory: { key: 'Memory', schema: fargateMemory },
      ephemeralStorage: { key: 'EphemeralStorage', schema: ephemeralStorage },
      enableExecuteCommand: { key: 'EnableExecuteCommand', schema: boolean(), default: false },
      containerName: { key: 'ContainerName', schema: string({ pattern: CONTAINER_NAME_PATTERN, expected: 'a container name (letters, digits, _ and -)' }), default: 'ci-coordinator' },
      capacityProviderStrategy: {
        key: 'CapacityProviderStrategy',
        schema: refine(list(strategyItem, { max: ECS_LIMITS.maxCapacityProviders }), checkStrategy),
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

const taskMetadata = refine(
  section<{ directory: string }>(
    { directory: { key: 'Directory', schema: string({ minLength: 0, expected: 'a directory path' }), default: '' } },
    { expected: 'a [TaskMetadata] table' },
  ),
  ({ directory }): TaskMetadataSettings => (directory === '' ? {} : { directory }),
);

const ssh = section<SshSettings>({
  username: { key: 'Username', schema: string({ pattern: /^[A-Za-z_][A-Za-z0-9_.-]*$/, maxLength: 32, expected: 'a user name' }), default: 'root' },
  port: {
    key: 'Port',
    schema: refine(integer({ min: 0, max: 65535, expected: 'a port from 1 to 65535 (0 means 22)' }), (port) => (port === 0 ? 22 : port)),
    default: 22,
  },
  connectTimeout: { key: 'ConnectTimeout', schema: decimal({ min: 1, max: 300 }), default: 10 },
  keepaliveInterval: { key: 'KeepaliveInterval', schema: decimal({ min: 0, max: 3600 }), default: 15 },
  keepaliveCountMax: { key: 'KeepaliveCountMax', schema: integer({ min: 1, max: 100 }), default: 4 },
}, { expected: 'an [SSH] table' });

const timeouts = section<TimeoutSettings>({
  taskStart: { key: 'TaskStart', schema: decimal({ min: 10, max: 3600 }), default: 600 },
  sshReady: { key: 'SSHReady', schema: decimal({ min: 1, max: 3600 }), default: 120 },
  stopTask: { key: 'StopTask', schema: decimal({ min: 1, max: 600 }), default: 60 },
  taskPollInterval: { key: 'TaskPollInterval', schema: decimal({ min: 0.1, max: 60 }), default: 2 },
  sshPollInterval: { key: 'SSHPollInterval', schema: decimal({ min: 0.1, max: 60 }), default: 1 },
}, { expected: 'a [Timeouts] table of seconds' });

const overrides = section<OverridePolicy>({
  taskDefinitions: {
    key: 'TaskDefinitions',
    schema: list(string({ pattern: /^[A-Za-z0-9_:/*.-]{1,1024}$/, expected: 'a task definition family, family:revision, ARN or * pattern' }), { unique: true }),
    default: [],
  },
  platformVersions: {
    key: 'PlatformVersions',
    schema: list(string({ pattern: PLATFORM_VERSION_PATTERN, expected: '"LATEST" or a version like "1.4.0"' }), { unique: true }),
    default: [],
  },
  maxCpu: { key: 'MaxCpu', schema: integer({ min: FARGATE_CPU_VALUES[0] as number, max: FARGATE_CPU_VALUES.at(-1) as number, expected: `CPU units from 256 to 16384 (Fargate sizes: ${FARGATE_CPU_VALUES.join(', ')})` }) },
  maxMemory: { key: 'MaxMemory', schema: fargateMemory },
  maxEphemeralStorage: { key: 'MaxEphemeralStorage', schema: ephemeralStorage },
  allowSpot: { key: 'AllowSpot', schema: boolean(), default: false },
}, { expected: 'an [Overrides] table' });

interface DriverRaw {
  logLevel: DriverConfig['logLevel'];
  logFormat: LogFormat;
  logFile: string;
  fargate: FargateSettings;
  taskMetadata: TaskMetadataSettings;
  ssh: SshSettings;
  timeouts: TimeoutSettings;
  overrides: OverridePolicy;
}

/** The whole driver TOML: upstream's keys plus ours, every key case-insensitive. */
export const driverSchema: Schema<DriverConfig> = refine(
  section<DriverRaw>({
    logLevel: { key: 'LogLevel', schema: logLevel, default: 'info' },
    logFormat: { key: 'LogFormat', schema: string({ oneOf: LOG_FORMATS }) as Schema<LogFormat>, default: 'text' },
    logFile: { key: 'LogFile', schema: string({ minLength: 0, expected: 'a file path (or "" for stderr)' }), default: '' },
    fargate: { key: 'Fargate', schema: fargate, required: true },
    taskMetadata: { key: 'TaskMetadata', schema: taskMetadata, defaultsFromEmptyTable: true },
    ssh: { key: 'SSH', schema: ssh, defaultsFromEmptyTable: true },
    timeouts: { key: 'Timeouts', schema: timeouts, defaultsFromEmptyTable: true },
    overrides: { key: 'Overrides', schema: overrides, defaultsFromEmptyTable: true },
  }),
  ({ logFile, ...rest }): DriverConfig => ({
    logLevel: rest.logLevel,
    logFormat: rest.logFormat,
    ...(logFile === '' ? {} : { logFile }),
    fargate: rest.fargate,
    taskMetadata: rest.taskMetadata,
    ssh: rest.ssh,
    timeouts: rest.timeouts,
    overrides: rest.overrides,
  }),
);
