import { clientException } from '../wire/aws-error.js';
import { optInt, optKeyValueList, optObject, optObjectList, optString, optStringList, reqString, type Input } from '../wire/input.js';
import { epochSeconds } from '../wire/json-protocol.js';
import type { ServiceContext } from './context.js';
import { checkCpuArchitecture } from './cpu-architecture.js';
import { normaliseFargateSize } from './fargate-sizes.js';
import { parseTaskDefinitionReference, taskDefinitionArn } from './identifiers.js';
import { checkDefinitionLimits, checkDependencies, readDependsOn, readHealthCheck, readMountPoints, readVolumes } from './container-relations.js';
import type { ContainerDefinition, PortMapping, Tag, TaskDefinition, Volume } from './model.js';
import { checkFamily, readTags } from './validation.js';

const unableToDescribe = () => clientException('Unable to describe task definition.');

/** Resolves `family`, `family:revision` or an ARN; a bare family means the latest ACTIVE revision. */
export function resolveTaskDefinition(ctx: ServiceContext, reference: string): TaskDefinition {
  const { family, revision } = parseTaskDefinitionReference(reference);
  const revisions = ctx.store.families.get(family);
  if (!revisions) throw unableToDescribe();
  if (revision !== undefined) {
    const found = revisions[revision - 1];
    if (!found) throw unableToDescribe();
    return found;
  }
  const latest = [...revisions].reverse().find((definition) => definition.status === 'ACTIVE');
  if (!latest) throw unableToDescribe();
  return latest;
}

function readPortMappings(definition: Input, awsvpc: boolean, name: string): PortMapping[] {
  return (optObjectList(definition, 'portMappings') ?? []).map((mapping) => {
    const containerPort = optInt(mapping, 'containerPort');
    const hostPort = optInt(mapping, 'hostPort');
    if (containerPort === undefined) throw clientException(`Container '${name}': portMappings.containerPort is required.`);
    if (containerPort < 1 || containerPort > 65535) throw clientException(`Container '${name}': invalid containerPort ${containerPort}.`);
    if (awsvpc && hostPort !== undefined && hostPort !== 0 && hostPort !== containerPort) {
      throw clientException(`When networkMode=awsvpc, the host ports and container ports in port mappings must match.`);
    }
    return { ...mapping, containerPort, hostPort: awsvpc ? containerPort : (hostPort ?? 0), protocol: optString(mapping, 'protocol') ?? 'tcp' };
  });
}

function readContainerDefinitions(input: Input, awsvpc: boolean, volumes: readonly Volume[]): ContainerDefinition[] {
  const definitions = optObjectList(input, 'containerDefinitions');
  if (!definitions || definitions.length === 0) throw clientException('Container list cannot be empty.');
  const names = new Set<string>();
  const result = definitions.map((definition): ContainerDefinition => {
    const name = optString(definition, 'name');
    const image = optString(definition, 'image');
    if (!name) throw clientException('Container.name should not be null or empty.');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw clientException(`Container name '${name}' may contain only letters, numbers, hyphens and underscores (up to 255).`);
    if (names.has(name)) throw clientException(`Duplicate container name found: ${name}.`);
    names.add(name);
    if (!image) throw clientException(`Container.image should not be null or empty.`);
    const stopTimeout = optInt(definition, 'stopTimeout');
    if (stopTimeout !== undefined && (stopTimeout < 0 || stopTimeout > 120)) {
      throw clientException(`Container '${name}': stopTimeout must be between 0 and 120 seconds on Fargate.`);
    }
    optStringList(definition, 'command');
    optStringList(definition, 'entryPoint');
    optInt(definition, 'memory');
    optInt(definition, 'startTimeout');
    if ((optObjectList(definition, 'volumesFrom') ?? []).length > 0) throw clientException(`Container '${name}': volumesFrom is not supported by this emulator; share a task volume instead.`);
    const dependsOn = readDependsOn(definition, name);
    const healthCheck = readHealthCheck(definition, name);
    return {
      ...definition,
      name,
      image,
      cpu: optInt(definition, 'cpu') ?? 0,
      essential: definition['essential'] === undefined ? true : definition['essential'] === true,
      portMappings: readPortMappings(definition, awsvpc, name),
      environment: optKeyValueList(definition, 'environment') ?? [],
      mountPoints: readMountPoints(definition, name, volumes),
      volumesFrom: [],
      ...(dependsOn ? { dependsOn } : {}),
      ...(healthCheck ? { healthCheck } : {}),
    };
  });
  if (!result.some((definition) => definition.essential)) {
    throw clientException('A task definition must have at least one essential container.');
  }
  checkDependencies(result);
  return result;
}

/** A validated definition before it gets its revision (`taskDefinitionArn` empty, `revision` 0). */
type DraftDefinition = TaskDefinition;

/** Every check of RegisterTaskDefinition, in AWS's order; the result only lacks its revision. */
function readTaskDefinition(ctx: ServiceContext, input: Input): { draft: DraftDefinition; tags: Tag[] } {
  const family = reqString(input, 'family');
  checkFamily(family);
  checkDefinitionLimits(input);
  const requires = optStringList(input, 'requiresCompatibilities') ?? [];
  const networkMode = optString(input, 'networkMode') ?? 'bridge';
  if (!['bridge', 'host', 'awsvpc', 'none'].includes(networkMode)) throw clientException(`Invalid networkMode '${networkMode}'.`);
  const wantsFargate = requires.includes('FARGATE');
  const awsvpc = networkMode === 'awsvpc';
  const volumes = readVolumes(input);
  const containerDefinitions = readContainerDefinitions(input, awsvpc, volumes);
  let cpu = optString(input, 'cpu');
  let memory = optString(input, 'memory');
  if (wantsFargate) {
    if (!awsvpc) throw clientException(`Fargate only supports network mode 'awsvpc'.`);
    if (cpu === undefined) throw clientException(`Fargate requires that 'cpu' be defined at the task level.`);
    if (memory === undefined) throw clientException(`Fargate requires that 'memory' be defined at the task level.`);
  }
  const fargateCapable = awsvpc && cpu !== undefined && memory !== undefined;
  if (fargateCapable) ({ cpu, memory } = normaliseFargateSize(cpu!, memory!));
  const ephemeralStorage = optObject(input, 'ephemeralStorage');
  const size = ephemeralStorage ? optInt(ephemeralStorage, 'sizeInGiB') : undefined;
  if (ephemeralStorage && (size === undefined || size < 21 || size > 200)) {
    throw clientException('The ephemeral storage size must be between 21 and 200 GiB.');
  }
  checkCpuArchitecture(optObject(input, 'runtimePlatform'));
  const tags = readTags(optObjectList(input, 'tags'));
  if (wantsFargate && !fargateCapable) throw clientException('Task definition is not Fargate compatible.');
  const { tags: _omit, ...rest } = input;
  const draft: DraftDefinition = {
    ...rest,
    taskDefinitionArn: '',
    family,
    revision: 0,
    status: 'ACTIVE',
    containerDefinitions,
    networkMode,
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    compatibilities: fargateCapable ? ['EC2', 'FARGATE'] : ['EC2'],
    volumes,
    placementConstraints: (input['placementConstraints'] as unknown[] | undefined) ?? [],
    requiresAttributes: awsvpc
      ? [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }, { name: 'ecs.capability.task-eni' }]
      : [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
    registeredAt: 0,
    registeredBy: `arn:aws:iam::${ctx.scope.accountId}:root`,
    ...(requires.length > 0 ? { requiresCompatibilities: requires } : {}),
  };
  return { draft, tags };
}

/** AWS's answer when a registration into a family overlaps another one still in progress. */
const CONCURRENT_REVISION_MESSAGE = 'Too many concurrent attempts to create a new revision of the specified family.';

/**
 * Registers a revision. Creating it takes `phases.registrationMs`; a second registration into the same family
 * arriving meanwhile fails with AWS's ClientException (the family's lock), so the overlap is deterministic.
 */
export async function registerTaskDefinition(ctx: ServiceContext, input: Input): Promise<unknown> {
  const { draft, tags } = readTaskDefinition(ctx, input);
  const { family } = draft;
  if (ctx.store.registering.has(family)) throw clientException(CONCURRENT_REVISION_MESSAGE);
  ctx.store.registering.add(family);
  try {
    await ctx.registrationDelay();
  } finally {
    ctx.store.registering.delete(family);
  }
  const revisions = ctx.store.families.get(family) ?? [];
  const revision = revisions.length + 1;
  const arn = taskDefinitionArn(ctx.scope, family, revision);
  const definition: TaskDefinition = { ...draft, taskDefinitionArn: arn, revision, registeredAt: epochSeconds(ctx.now()) };
  revisions.push(definition);
  ctx.store.families.set(family, revisions);
  ctx.store.taskDefinitionTags.set(arn, tags);
  return { taskDefinition: definition, tags };
}

export function describeTaskDefinition(ctx: ServiceContext, input: Input): unknown {
  const definition = resolveTaskDefinition(ctx, reqString(input, 'taskDefinition'));
  const includeTags = (optStringList(input, 'include') ?? []).includes('TAGS');
  return {
    taskDefinition: definition,
    ...(includeTags ? { tags: ctx.store.taskDefinitionTags.get(definition.taskDefinitionArn) ?? [] } : {}),
  };
}
