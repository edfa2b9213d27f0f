import { clientException } from '../wire/aws-error.js';
import { optBool, optInt, optObject, optObjectList, optString, optStringList, type Input } from '../wire/input.js';
import type { ContainerDefinition, ContainerDependency, HealthCheck, MountPoint, Volume } from './model.js';

/**
 * What RegisterTaskDefinition checks about how containers relate: task volumes and their mount points,
 * `dependsOn`, `healthCheck`, and the size limits. Messages are AWS's where known (ClientException).
 */

/** At most this many containers per task definition (ECS service quota). */
const MAX_CONTAINERS = 10;
/** A registered task definition is at most this many bytes of JSON (ECS service quota, 64 KiB). */
const MAX_DEFINITION_BYTES = 65_536;

const CONDITIONS: readonly ContainerDependency['condition'][] = ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'];
const VOLUME_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Refuses a request over the container count or the 64 KiB size, as AWS words it. */
export function checkDefinitionLimits(input: Input): void {
  const containers = (input['containerDefinitions'] as unknown[] | undefined) ?? [];
  if (containers.length > MAX_CONTAINERS) throw clientException('Too many containers.');
  const { tags: _tags, ...definition } = input;
  const length = Buffer.byteLength(JSON.stringify(definition), 'utf8');
  if (length > MAX_DEFINITION_BYTES) throw clientException(`Actual length: '${length}'. Max allowed length is '${MAX_DEFINITION_BYTES}' bytes.`);
}

/** `volumes[]`: task-scoped volumes only (no host path, no EFS/FSx/Docker volume configuration). */
export function readVolumes(input: Input): Volume[] {
  const names = new Set<string>();
  return (optObjectList(input, 'volumes') ?? []).map((volume): Volume => {
    const name = optString(volume, 'name') ?? '';
    if (!VOLUME_NAME.test(name)) throw clientException(`Invalid volume name '${name}': up to 255 letters, numbers, hyphens and underscores.`);
    if (names.has(name)) throw clientException(`Duplicate volume name found: ${name}.`);
    names.add(name);
    const host = optObject(volume, 'host');
    if (host && optString(host, 'sourcePath')) {
      throw clientException(`Volume '${name}': host.sourcePath is not supported on Fargate; leave host empty for a task volume.`);
    }
    for (const kind of ['efsVolumeConfiguration', 'fsxWindowsFileServerVolumeConfiguration', 'dockerVolumeConfiguration', 'configuredAtLaunch']) {
      if (volume[kind] !== undefined) throw clientException(`Volume '${name}': ${kind} is not supported by this emulator (task volumes only).`);
    }
    return { ...volume, name };
  });
}

/** A container's `mountPoints[]`, each naming a volume of the task definition. */
export function readMountPoints(definition: Input, container: string, volumes: readonly Volume[]): MountPoint[] {
  return (optObjectList(definition, 'mountPoints') ?? []).map((mount): MountPoint => {
    const sourceVolume = optString(mount, 'sourceVolume') ?? '';
    const containerPath = optString(mount, 'containerPath') ?? '';
    if (!volumes.some((volume) => volume.name === sourceVolume)) {
      throw clientException(`Invalid 'mountPoints' setting for container '${container}': sourceVolume '${sourceVolume}' is not a volume of the task definition.`);
    }
    if (!containerPath.startsWith('/')) throw clientException(`Invalid 'mountPoints' setting for container '${container}': containerPath must be an absolute path.`);
    const readOnly = optBool(mount, 'readOnly');
    return { ...mount, sourceVolume, containerPath, ...(readOnly !== undefined ? { readOnly } : {}) };
  });
}

/** A container's `dependsOn[]` (names are checked against the other containers by {@link checkDependencies}). */
export function readDependsOn(definition: Input, container: string): ContainerDependency[] | undefined {
  const list = optObjectList(definition, 'dependsOn');
  if (!list) return undefined;
  return list.map((dependency): ContainerDependency => {
    const containerName = optString(dependency, 'containerName') ?? '';
    const condition = optString(dependency, 'condition') as ContainerDependency['condition'];
    if (!containerName) throw clientException(`Container '${container}': dependsOn.containerName is required.`);
    if (!CONDITIONS.includes(condition)) throw clientException(`Container '${container}': dependsOn.condition must be one of ${CONDITIONS.join(', ')}.`);
    return { containerName, condition };
  });
}

/** `healthCheck` with ECS's ranges and defaults (interval 30 s, timeout 5 s, retries 3). */
export function readHealthCheck(definition: Input, container: string): HealthCheck | undefined {
  const check = optObject(definition, 'healthCheck');
  if (!check) return undefined;
  const command = optStringList(check, 'command') ?? [];
  if (command.length < 2 || !['CMD', 'CMD-SHELL'].includes(command[0]!)) {
    throw clientException(`Container '${container}': healthCheck.command must start with CMD or CMD-SHELL, followed by the command.`);
  }
  const ranged = (field: string, min: number, max: number, fallback?: number): number | undefined => {
    const value = optInt(check, field) ?? fallback;
    if (value !== undefined && (value < min || value > max)) throw clientException(`Container '${container}': healthCheck.${field} must be between ${min} and ${max}.`);
    return value;
  };
  const startPeriod = ranged('startPeriod', 0, 300);
  return {
    command,
    interval: ranged('interval', 5, 300, 30)!,
    timeout: ranged('timeout', 2, 60, 5)!,
    retries: ranged('retries', 1, 10, 3)!,
    ...(startPeriod !== undefined ? { startPeriod } : {}),
  };
}

/** Every `dependsOn` names another container; COMPLETE/SUCCESS never target an essential one; HEALTHY needs a health check; no cycles. */
export function checkDependencies(definitions: readonly ContainerDefinition[]): void {
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  for (const definition of definitions) {
    for (const { containerName, condition } of definition.dependsOn ?? []) {
      const target = byName.get(containerName);
      if (!target || containerName === definition.name) {
        throw clientException(`Container '${definition.name}': dependsOn names '${containerName}', which is not another container of this task definition.`);
      }
      if ((condition === 'SUCCESS' || condition === 'COMPLETE') && target.essential !== false) {
        throw clientException('A dependency container with SUCCESS or COMPLETE condition cannot be an essential container');
      }
      if (condition === 'HEALTHY' && !target.healthCheck) {
        throw clientException(`Container '${definition.name}': a HEALTHY dependency needs a healthCheck on '${containerName}'.`);
      }
    }
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw clientException(`Container dependencies form a cycle through '${name}'.`);
    visiting.add(name);
    for (const dependency of byName.get(name)?.dependsOn ?? []) visit(dependency.containerName);
    visiting.delete(name);
    done.add(name);
  };
  for (const definition of definitions) visit(definition.name);
}
