import { child, type At, type Checker } from '../schema/checker.js';
import { boolean, decimal, integer, list, refine, section, string, type Schema } from '../schema/schema.js';
import { PLATFORM_VERSION_PATTERN } from '../aws/shapes.js';
import { FARGATE_CPU_VALUES } from '../aws/fargate-sizing.js';
import {
  CPU_ARCHITECTURES,
  LOG_FORMATS,
  type CpuArchitecture,
  type DriverConfig,
  type FargateSettings,
  type JobImageSettings,
  type LogFormat,
  type OverridePolicy,
  type PoolDefaults,
  type PoolSettings,
  type PricingSettings,
  type SshSettings,
  type TaskMetadataSettings,
  type TimeoutSettings,
} from './model.js';
import { fargate } from './sections/fargate.js';
import { jobImages, withFamilyPrefix } from './sections/job-images.js';
import { withPoolDirectory } from './sections/pool-directory.js';
import { poolDefaults, pools } from './sections/pool.js';
import { pricing } from './sections/pricing.js';
import { ephemeralStorage, fargateMemory, logLevel } from './sections/values.js';

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
  multiplex: { key: 'Multiplex', schema: boolean(), default: true },
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
  cpuArchitectures: { key: 'CpuArchitectures', schema: list(string({ oneOf: CPU_ARCHITECTURES }) as Schema<CpuArchitecture>, { unique: true }) },
}, { expected: 'an [Overrides] table' });

/** A job may be offered ARM64 only when the environment has an ARM64 task definition to give it. */
function checkArm64TaskDefinition(raw: Partial<DriverRaw>, failed: ReadonlySet<keyof DriverRaw>, at: At, checker: Checker): boolean {
  if (failed.has('fargate') || failed.has('overrides') || raw.fargate?.arm64TaskDefinition !== undefined) return true;
  if (!raw.overrides?.cpuArchitectures?.includes('ARM64')) return true;
  checker.error(
    child(child(at, 'Overrides', 'Overrides'), 'CpuArchitectures', 'CpuArchitectures'),
    'ARM64 only with [Fargate] Arm64TaskDefinition set',
    'ARM64 allowed without it',
    'set [Fargate] Arm64TaskDefinition to the environment\'s ARM64 task definition, or remove "ARM64"',
  );
  return false;
}

interface DriverRaw {
  logLevel: DriverConfig['logLevel'];
  logFormat: LogFormat;
  logFile: string;
  fargate: FargateSettings;
  taskMetadata: TaskMetadataSettings;
  ssh: SshSettings;
  timeouts: TimeoutSettings;
  overrides: OverridePolicy;
  pricing: PricingSettings;
  jobImages: JobImageSettings;
  pools: PoolSettings[];
  poolDefaults: PoolDefaults;
}

/** A pool needs a state directory: `[PoolSettings] Directory`, or `[TaskMetadata] Directory` to put it under. */
function checkPoolDirectory(raw: Partial<DriverRaw>, failed: ReadonlySet<keyof DriverRaw>, at: At, checker: Checker): boolean {
  if (failed.has('pools') || failed.has('poolDefaults') || failed.has('taskMetadata') || (raw.pools ?? []).length === 0) return true;
  if (raw.poolDefaults?.directory !== undefined || raw.taskMetadata?.directory !== undefined) return true;
  checker.error(
    child(child(at, 'PoolSettings', 'PoolSettings'), 'Directory', 'Directory'),
    'a pool state directory when a [[Pool]] is configured',
    'nothing',
    'set [TaskMetadata] Directory (the pool directory defaults to its "pool" subfolder) or [PoolSettings] Directory',
  );
  return false;
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
    pricing: { key: 'Pricing', schema: pricing, defaultsFromEmptyTable: true },
    jobImages: { key: 'JobImages', schema: jobImages, defaultsFromEmptyTable: true },
    pools: { key: 'Pool', schema: pools, default: [] },
    poolDefaults: { key: 'PoolSettings', schema: poolDefaults, defaultsFromEmptyTable: true },
  }, {
    // Both run, so both report: not a short-circuiting &&.
    check: (raw, failed, at, checker) =>
      [checkArm64TaskDefinition(raw, failed, at, checker), checkPoolDirectory(raw, failed, at, checker)].every(Boolean),
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
    pricing: rest.pricing,
    jobImages: withFamilyPrefix(rest.jobImages, rest.fargate.taskDefinition),
    pools: rest.pools,
    poolDefaults: withPoolDirectory(rest.poolDefaults, rest.taskMetadata),
  }),
);
