import type { ContainerDefinition, MountPoint, PortMapping, RegisterTaskDefinitionCommandInput, TaskDefinition } from '@aws-sdk/client-ecs';
import { definitionHash } from './hash.js';

/**
 * The task-level members a derived definition is made of (the template's roles, network, size and platform, the
 * volumes and the containers). Everything else DescribeTaskDefinition answers is ECS's own bookkeeping
 * (`taskDefinitionArn`, `revision`, `status`, `compatibilities`, `requiresAttributes`, `registeredAt`, …) or a member
 * a Fargate task does not use, so it is not part of what a job runs with.
 */
export const DEFINITION_MEMBERS = [
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'runtimePlatform',
  'ephemeralStorage',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'volumes',
  'containerDefinitions',
] as const;

/** A definition as registered or as described: both reduce to the same content. */
export type DefinitionLike = Pick<TaskDefinition | RegisterTaskDefinitionCommandInput, (typeof DEFINITION_MEMBERS)[number]>;

/** True for what ECS treats as "not given": `undefined`, `null`, `[]` and `{}`. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/** The value with its empty members left out, at every depth (ECS answers `environment: []`, `host: {}`, …). */
function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty);
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  const kept = Object.entries(value as Record<string, unknown>)
    .map(([key, member]) => [key, withoutEmpty(member)] as const)
    .filter(([, member]) => !isEmpty(member));
  return Object.fromEntries(kept);
}

/** A port mapping without the values ECS fills in: awsvpc's host port (always the container port) and `tcp`. */
function portMappingContent(mapping: PortMapping): PortMapping {
  const { hostPort, protocol, ...rest } = mapping;
  return {
    ...rest,
    ...(hostPort === undefined || hostPort === mapping.containerPort ? {} : { hostPort }),
    ...(protocol === undefined || protocol === 'tcp' ? {} : { protocol }),
  };
}

/** A mount point without `readOnly: false`, what leaving it out means. */
function mountPointContent(mount: MountPoint): MountPoint {
  const { readOnly, ...rest } = mount;
  return readOnly === true ? { ...rest, readOnly } : rest;
}

/**
 * A container without the defaults ECS writes into what it describes (`cpu: 0`, `essential: true`, a mount's
 * `readOnly: false`, a port's host port and protocol): each is what leaving the member out means, so a container
 * described back from ECS has the content of the one registered.
 */
function containerContent(container: ContainerDefinition): ContainerDefinition {
  const { cpu, essential, portMappings, mountPoints, ...rest } = container;
  return {
    ...rest,
    ...(cpu === undefined || cpu === 0 ? {} : { cpu }),
    ...(essential === undefined || essential ? {} : { essential }),
    ...(portMappings === undefined ? {} : { portMappings: portMappings.map(portMappingContent) }),
    ...(mountPoints === undefined ? {} : { mountPoints: mountPoints.map(mountPointContent) }),
  };
}

/**
 * What a task definition runs: its {@link DEFINITION_MEMBERS}, with the values ECS fills in and empty members left out.
 * A definition and its description by ECS have the same content; a different image, role, command, environment,
 * volume or container anywhere gives a different one.
 */
export function definitionContent(definition: DefinitionLike): unknown {
  const picked: Record<string, unknown> = {};
  for (const member of DEFINITION_MEMBERS) picked[member] = definition[member];
  picked['containerDefinitions'] = (definition.containerDefinitions ?? []).map(containerContent);
  return withoutEmpty(picked);
}

/** sha256 (hex) of the definition's {@link definitionContent}: the hash that names a derived family. */
export function contentHash(definition: DefinitionLike): string {
  return definitionHash(definitionContent(definition));
}
