import { clientException, invalidParameter } from '../wire/aws-error.js';
import { optInt, optKeyValueList, optObject, optObjectList, optString, optStringList, reqString, type Input } from '../wire/input.js';
import { paginate } from '../wire/pagination.js';
import { epochSeconds } from '../wire/json-protocol.js';
import type { ServiceContext } from './context.js';
import { checkCpuArchitecture } from './cpu-architecture.js';
import { normaliseFargateSize } from './fargate-sizes.js';
import { parseTaskDefinitionReference, taskDefinitionArn } from './identifiers.js';
import type { ContainerDefinition, PortMapping, TaskDefinition } from './model.js';
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

function readContainerDefinitions(input: Input, awsvpc: boolean): ContainerDefinition[] {
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
    return {
      ...definition,
      name,
      image,
      cpu: optInt(definition, 'cpu') ?? 0,
      essential: definition['essential'] === undefined ? true : definition['essential'] === true,
      portMappings: readPortMappings(definition, awsvpc, name),
      environment: optKeyValueList(definition, 'environment') ?? [],
      mountPoints: definition['mountPoints'] ?? [],
      volumesFrom: definition['volumesFrom'] ?? [],
    };
  });
  if (!result.some((definition) => definition.essential)) {
    throw clientException('A task definition must have at least one essential container.');
  }
  return result;
}

export function registerTaskDefinition(ctx: ServiceContext, input: Input): unknown {
  const family = reqString(input, 'family');
  checkFamily(family);
  const requires = optStringList(input, 'requiresCompatibilities') ?? [];
  const networkMode = optString(input, 'networkMode') ?? 'bridge';
  if (!['bridge', 'host', 'awsvpc', 'none'].includes(networkMode)) throw clientException(`Invalid networkMode '${networkMode}'.`);
  const wantsFargate = requires.includes('FARGATE');
  const awsvpc = networkMode === 'awsvpc';
  const containerDefinitions = readContainerDefinitions(input, awsvpc);
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
  const revisions = ctx.store.families.get(family) ?? [];
  const revision = revisions.length + 1;
  const { tags: _omit, ...rest } = input;
  const definition: TaskDefinition = {
    ...rest,
    taskDefinitionArn: taskDefinitionArn(ctx.scope, family, revision),
    family,
    revision,
    status: 'ACTIVE',
    containerDefinitions,
    networkMode,
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    compatibilities: fargateCapable ? ['EC2', 'FARGATE'] : ['EC2'],
    volumes: (input['volumes'] as unknown[] | undefined) ?? [],
    placementConstraints: (input['placementConstraints'] as unknown[] | undefined) ?? [],
    requiresAttributes: awsvpc
      ? [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }, { name: 'ecs.capability.task-eni' }]
      : [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
    registeredAt: epochSeconds(ctx.now()),
    registeredBy: `arn:aws:iam::${ctx.scope.accountId}:root`,
  };
  if (requires.length > 0) definition.requiresCompatibilities = requires;
  if (wantsFargate && !definition.compatibilities.includes('FARGATE')) throw clientException('Task definition is not Fargate compatible.');
  revisions.push(definition);
  ctx.store.families.set(family, revisions);
  ctx.store.taskDefinitionTags.set(definition.taskDefinitionArn, tags);
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

export function deregisterTaskDefinition(ctx: ServiceContext, input: Input): unknown {
  const reference = reqString(input, 'taskDefinition');
  if (parseTaskDefinitionReference(reference).revision === undefined) {
    throw invalidParameter('Invalid revision number. A task definition must be given as family:revision or as a full ARN.');
  }
  const definition = resolveTaskDefinition(ctx, reference);
  if (definition.status === 'ACTIVE') {
    definition.status = 'INACTIVE';
    definition.deregisteredAt = epochSeconds(ctx.now());
  }
  return { taskDefinition: definition };
}

export function listTaskDefinitions(ctx: ServiceContext, input: Input): unknown {
  const family = optString(input, 'familyPrefix');
  const status = optString(input, 'status') ?? 'ACTIVE';
  const sort = optString(input, 'sort') ?? 'ASC';
  if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status)) throw invalidParameter(`Invalid status '${status}'.`);
  if (!['ASC', 'DESC'].includes(sort)) throw invalidParameter(`Invalid sort order '${sort}'.`);
  const families = [...ctx.store.families.keys()].sort();
  let arns = families
    .filter((name) => family === undefined || name === family)
    .flatMap((name) => ctx.store.families.get(name)!)
    .filter((definition) => definition.status === status)
    .map((definition) => definition.taskDefinitionArn);
  if (sort === 'DESC') arns = arns.reverse();
  const { page, nextToken } = paginate(arns, optInt(input, 'maxResults'), optString(input, 'nextToken'));
  return { taskDefinitionArns: page, ...(nextToken ? { nextToken } : {}) };
}
