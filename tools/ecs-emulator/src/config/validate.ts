import type { FaultOptions } from '../faults/faults.js';
import type { ThrottlingOptions } from '../faults/throttling.js';
import type { PhaseDurations } from '../lifecycle/phases.js';
import { INPUT_MEMBERS } from '../wire/shapes.js';
import type { EmulatorConfigFile } from './options.js';

/** A configuration value that does not fit: says where, what was wrong and what is expected. */
export class ConfigError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

function object(value: unknown, where: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(where, `expected a JSON object, got ${JSON.stringify(value)}`);
  return value as Obj;
}

function onlyKeys(value: Obj, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(`${where}.${key}`, `unknown setting; allowed: ${allowed.join(', ')}`);
  }
}

function number(value: unknown, where: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new ConfigError(where, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function selector(value: Obj, where: string): void {
  if (value['count'] !== undefined) number(value['count'], `${where}.count`, 0);
  if (value['probability'] !== undefined) number(value['probability'], `${where}.probability`, 0, 1, false);
}

const PHASE_KEYS = ['provisioningMs', 'pendingMs', 'activatingMs', 'deactivatingMs', 'deprovisioningMs', 'registrationMs'] as const;

export function validatePhases(raw: unknown, where = 'phases'): Partial<PhaseDurations> {
  const value = object(raw, where);
  onlyKeys(value, PHASE_KEYS, where);
  for (const key of PHASE_KEYS) if (value[key] !== undefined) number(value[key], `${where}.${key}`, 0, 3_600_000);
  return value as Partial<PhaseDurations>;
}

const BUCKET_KEYS = [
  'clusterModify', 'clusterRead', 'taskDefinitionModify', 'taskDefinitionRead', 'taskDefinitionDelete', 'tagModify', 'tagRead',
  'clusterResourceModify', 'clusterResourceRead', 'fargateRunTask',
] as const;

export function validateThrottling(raw: unknown, where = 'throttling'): ThrottlingOptions {
  const value = object(raw, where);
  onlyKeys(value, ['enabled', 'buckets'], where);
  if (value['enabled'] !== undefined && typeof value['enabled'] !== 'boolean') throw new ConfigError(`${where}.enabled`, 'expected true or false');
  if (value['buckets'] !== undefined) {
    const buckets = object(value['buckets'], `${where}.buckets`);
    onlyKeys(buckets, BUCKET_KEYS, `${where}.buckets`);
    for (const [name, figures] of Object.entries(buckets)) {
      const bucket = object(figures, `${where}.buckets.${name}`);
      onlyKeys(bucket, ['burst', 'refillPerSecond'], `${where}.buckets.${name}`);
      number(bucket['burst'], `${where}.buckets.${name}.burst`, 1);
      number(bucket['refillPerSecond'], `${where}.buckets.${name}.refillPerSecond`, 0, 1e6, false);
    }
  }
  return value as ThrottlingOptions;
}

export function validateFaults(raw: unknown, where = 'faults'): FaultOptions {
  const value = object(raw, where);
  onlyKeys(value, ['capacityUnavailable', 'vcpuLimit', 'startFailure', 'slowProvisioning', 'missingDescribes', 'spotInterruption', 'lateSshd', 'serverError', 'accessDenied'], where);
  for (const key of ['serverError', 'accessDenied'] as const) {
    if (value[key] === undefined) continue;
    const fault = object(value[key], `${where}.${key}`);
    onlyKeys(fault, ['count', 'probability', 'operations'], `${where}.${key}`);
    selector(fault, `${where}.${key}`);
    const operations = fault['operations'];
    if (operations !== undefined && (!Array.isArray(operations) || operations.some((op) => typeof op !== 'string' || !(op in INPUT_MEMBERS)))) {
      throw new ConfigError(`${where}.${key}.operations`, `expected a list of operation names among ${Object.keys(INPUT_MEMBERS).join(', ')}`);
    }
  }
  if (value['capacityUnavailable'] !== undefined) {
    const capacity = object(value['capacityUnavailable'], `${where}.capacityUnavailable`);
    onlyKeys(capacity, ['FARGATE', 'FARGATE_SPOT'], `${where}.capacityUnavailable`);
    for (const [provider, s] of Object.entries(capacity)) selector(object(s, `${where}.capacityUnavailable.${provider}`), `${where}.capacityUnavailable.${provider}`);
  }
  if (value['vcpuLimit'] !== undefined) number(value['vcpuLimit'], `${where}.vcpuLimit`, 0, 1e6, false);
  if (value['missingDescribes'] !== undefined) number(value['missingDescribes'], `${where}.missingDescribes`, 0, 1000);
  if (value['startFailure'] !== undefined) {
    const failure = object(value['startFailure'], `${where}.startFailure`);
    onlyKeys(failure, ['count', 'probability', 'error', 'message'], `${where}.startFailure`);
    selector(failure, `${where}.startFailure`);
    if (failure['error'] !== 'CannotPullContainerError' && failure['error'] !== 'ResourceInitializationError') {
      throw new ConfigError(`${where}.startFailure.error`, 'expected "CannotPullContainerError" or "ResourceInitializationError"');
    }
    if (failure['message'] !== undefined && typeof failure['message'] !== 'string') throw new ConfigError(`${where}.startFailure.message`, 'expected a string');
  }
  if (value['slowProvisioning'] !== undefined) {
    const slow = object(value['slowProvisioning'], `${where}.slowProvisioning`);
    onlyKeys(slow, ['count', 'probability', 'extraMs'], `${where}.slowProvisioning`);
    selector(slow, `${where}.slowProvisioning`);
    number(slow['extraMs'], `${where}.slowProvisioning.extraMs`, 0, 3_600_000);
  }
  if (value['spotInterruption'] !== undefined) {
    const spot = object(value['spotInterruption'], `${where}.spotInterruption`);
    onlyKeys(spot, ['count', 'probability', 'afterRunningMs', 'noticeMs'], `${where}.spotInterruption`);
    selector(spot, `${where}.spotInterruption`);
    if (spot['afterRunningMs'] !== undefined) number(spot['afterRunningMs'], `${where}.spotInterruption.afterRunningMs`, 0);
    if (spot['noticeMs'] !== undefined) number(spot['noticeMs'], `${where}.spotInterruption.noticeMs`, 0, 120_000);
  }
  if (value['lateSshd'] !== undefined) {
    const late = object(value['lateSshd'], `${where}.lateSshd`);
    onlyKeys(late, ['count', 'probability', 'delayMs'], `${where}.lateSshd`);
    selector(late, `${where}.lateSshd`);
    number(late['delayMs'], `${where}.lateSshd.delayMs`, 0, 3_600_000);
  }
  return value as FaultOptions;
}

/** Checks a whole config file (JSON), naming the offending key on any problem. */
export function validateConfigFile(raw: unknown, where = 'config'): EmulatorConfigFile {
  const value = object(raw, where);
  onlyKeys(
    value,
    ['port', 'host', 'region', 'accountId', 'phases', 'stoppedRetentionMs', 'defaultStopTimeoutSeconds', 'portReadinessTimeoutMs', 'throttling', 'faults', 'dockerSocket', 'loopbackBlock', 'applyResourceLimits', 'removeOrphans', 'holderImage'],
    where,
  );
  if (value['port'] !== undefined) number(value['port'], `${where}.port`, 0, 65535);
  for (const key of ['host', 'region', 'dockerSocket', 'holderImage'] as const) {
    if (value[key] !== undefined && (typeof value[key] !== 'string' || value[key] === '')) throw new ConfigError(`${where}.${key}`, 'expected a non-empty string');
  }
  if (value['accountId'] !== undefined && (typeof value['accountId'] !== 'string' || !/^\d{12}$/.test(value['accountId']))) {
    throw new ConfigError(`${where}.accountId`, 'expected 12 digits');
  }
  if (value['phases'] !== undefined) validatePhases(value['phases'], `${where}.phases`);
  if (value['stoppedRetentionMs'] !== undefined) number(value['stoppedRetentionMs'], `${where}.stoppedRetentionMs`, 0);
  if (value['defaultStopTimeoutSeconds'] !== undefined) number(value['defaultStopTimeoutSeconds'], `${where}.defaultStopTimeoutSeconds`, 0, 120);
  if (value['portReadinessTimeoutMs'] !== undefined) number(value['portReadinessTimeoutMs'], `${where}.portReadinessTimeoutMs`, 0, 600_000);
  if (value['throttling'] !== undefined) validateThrottling(value['throttling'], `${where}.throttling`);
  if (value['faults'] !== undefined) validateFaults(value['faults'], `${where}.faults`);
  if (value['loopbackBlock'] !== undefined) number(value['loopbackBlock'], `${where}.loopbackBlock`, 1, 254);
  for (const key of ['applyResourceLimits', 'removeOrphans'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'boolean') throw new ConfigError(`${where}.${key}`, 'expected true or false');
  }
  return value as EmulatorConfigFile;
}
