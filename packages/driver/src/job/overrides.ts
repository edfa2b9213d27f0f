import {
  EPHEMERAL_STORAGE_GIB,
  FARGATE_CPU_VALUES,
  OVERRIDE_VARIABLES,
  type CpuArchitecture,
  type OverridePolicy,
  fargateMemoryFor,
  isValidFargateSize,
  matchesAllowList,
} from '@gitlab-fargate/config';
import { OverrideRefused } from '../errors.js';
import { readCpuArchitecture } from './cpu-architecture.js';

/** What a job asked for through its CI variables, every item already checked against the policy. */
export interface JobOverrides {
  readonly taskDefinition?: string;
  readonly platformVersion?: string;
  /** CPU units. */
  readonly cpu?: number;
  /** MiB. */
  readonly memory?: number;
  /** GiB. */
  readonly ephemeralStorageGiB?: number;
  /** `true`: Fargate Spot; `false`: on-demand. */
  readonly spot?: boolean;
  /** The architecture the job asked for; ARM64 selects `[Fargate] Arm64TaskDefinition`. */
  readonly cpuArchitecture?: CpuArchitecture;
}

const V = OVERRIDE_VARIABLES;

/**
 * Reads the per-job override variables (`CUSTOM_ENV_FARGATE_*`, here without the prefix) and checks each against
 * `[Overrides]`. Everything is refused unless allowed: a job author must not gain what the administrator did not
 * grant. An empty value counts as unset.
 *
 * @throws OverrideRefused naming the variable and the rule, before anything is started
 */
export function readOverrides(variables: ReadonlyMap<string, string>, policy: OverridePolicy): JobOverrides {
  const get = (name: string): string | undefined => {
    const value = variables.get(name)?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  // Checked in this order, so a job that asks for several refused things hears about the first one.
  const taskDefinition = allowedTaskDefinition(get(V.taskDefinition), policy);
  const platformVersion = allowedPlatformVersion(get(V.platformVersion), policy);
  const { cpu, memory } = allowedSize(get(V.cpu), get(V.memory), policy);
  const ephemeralStorageGiB = allowedEphemeralStorage(get(V.ephemeralStorage), policy);
  const spot = allowedSpot(get(V.spot), policy);
  const cpuArchitecture = readCpuArchitecture(get(V.cpuArchitecture), policy, taskDefinition !== undefined);
  const result: { -readonly [K in keyof JobOverrides]: JobOverrides[K] } = {};
  if (taskDefinition !== undefined) result.taskDefinition = taskDefinition;
  if (platformVersion !== undefined) result.platformVersion = platformVersion;
  if (cpu !== undefined) result.cpu = cpu;
  if (memory !== undefined) result.memory = memory;
  if (ephemeralStorageGiB !== undefined) result.ephemeralStorageGiB = ephemeralStorageGiB;
  if (spot !== undefined) result.spot = spot;
  if (cpuArchitecture !== undefined) result.cpuArchitecture = cpuArchitecture;
  return result;
}

function allowedTaskDefinition(taskDefinition: string | undefined, policy: OverridePolicy): string | undefined {
  if (taskDefinition !== undefined && !matchesAllowList(taskDefinition, policy.taskDefinitions)) {
    throw new OverrideRefused(V.taskDefinition, `${JSON.stringify(taskDefinition)} is not allowed: ${allowed('TaskDefinitions', policy.taskDefinitions)}`);
  }
  return taskDefinition;
}

function allowedPlatformVersion(platformVersion: string | undefined, policy: OverridePolicy): string | undefined {
  if (platformVersion !== undefined && !policy.platformVersions.includes(platformVersion)) {
    throw new OverrideRefused(V.platformVersion, `${JSON.stringify(platformVersion)} is not allowed: ${allowed('PlatformVersions', policy.platformVersions)}`);
  }
  return platformVersion;
}

/** CPU units and MiB, each within its ceiling, and together a size Fargate offers when both are given. */
function allowedSize(cpu: string | undefined, memory: string | undefined, policy: OverridePolicy): { cpu?: number; memory?: number } {
  let units: number | undefined;
  if (cpu !== undefined) {
    units = wholeNumber(V.cpu, cpu, 'CPU units, e.g. 1024 for 1 vCPU');
    if (!FARGATE_CPU_VALUES.includes(units)) {
      throw new OverrideRefused(V.cpu, `${units} is not a Fargate CPU value (use one of ${FARGATE_CPU_VALUES.join(', ')})`);
    }
    ceiling(V.cpu, units, policy.maxCpu, 'MaxCpu', 'CPU units');
  }
  let mib: number | undefined;
  if (memory !== undefined) {
    mib = wholeNumber(V.memory, memory, 'MiB, e.g. 4096');
    ceiling(V.memory, mib, policy.maxMemory, 'MaxMemory', 'MiB');
  }
  if (units !== undefined && mib !== undefined && !isValidFargateSize(units, mib)) {
    throw new OverrideRefused(
      V.memory,
      `${mib} MiB is not a Fargate size with ${units} CPU units (allowed: ${fargateMemoryFor(units).join(', ')})`,
    );
  }
  return { cpu: units, memory: mib };
}

function allowedEphemeralStorage(storage: string | undefined, policy: OverridePolicy): number | undefined {
  if (storage === undefined) return undefined;
  const gib = wholeNumber(V.ephemeralStorage, storage, 'GiB, e.g. 50');
  if (gib < EPHEMERAL_STORAGE_GIB.min || gib > EPHEMERAL_STORAGE_GIB.max) {
    throw new OverrideRefused(V.ephemeralStorage, `${gib} GiB is outside Fargate's ${EPHEMERAL_STORAGE_GIB.min}-${EPHEMERAL_STORAGE_GIB.max} GiB`);
  }
  ceiling(V.ephemeralStorage, gib, policy.maxEphemeralStorage, 'MaxEphemeralStorage', 'GiB');
  return gib;
}

function allowedSpot(spot: string | undefined, policy: OverridePolicy): boolean | undefined {
  if (spot === undefined) return undefined;
  const wanted = parseBoolean(spot);
  if (wanted === undefined) throw new OverrideRefused(V.spot, `expected true or false, found ${JSON.stringify(spot)}`);
  if (!policy.allowSpot) {
    throw new OverrideRefused(V.spot, 'choosing Spot or on-demand per job is not allowed: [Overrides] AllowSpot is false');
  }
  return wanted;
}

function allowed(key: string, list: readonly string[]): string {
  return list.length === 0
    ? `[Overrides] ${key} is empty, so jobs may not choose this`
    : `[Overrides] ${key} allows ${list.map((v) => JSON.stringify(v)).join(', ')}`;
}

function wholeNumber(variable: string, raw: string, expected: string): number {
  if (!/^\d+$/.test(raw)) throw new OverrideRefused(variable, `expected a whole number of ${expected}, found ${JSON.stringify(raw)}`);
  return Number(raw);
}

function ceiling(variable: string, value: number, max: number | undefined, key: string, unit: string): void {
  if (max === undefined) {
    throw new OverrideRefused(variable, `jobs may not choose this: [Overrides] ${key} is not set`);
  }
  if (value > max) {
    throw new OverrideRefused(variable, `${value} ${unit} is above the ceiling [Overrides] ${key} = ${max}`);
  }
}

function parseBoolean(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return undefined;
}
