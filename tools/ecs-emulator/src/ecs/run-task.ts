import { AwsError, invalidParameter } from '../wire/aws-error.js';
import { optBool, optInt, optKeyValueList, optObject, optObjectList, optString, optStringList, reqString, type Input } from '../wire/input.js';
import { epochSeconds } from '../wire/json-protocol.js';
import type { TaskFaultPlan } from '../lifecycle/task-runtime.js';
import { checkStrategyAssociated, placeByStrategy, readStrategy } from './capacity.js';
import { activeCluster } from './clusters.js';
import type { ServiceContext } from './context.js';
import { taskCpuArchitecture } from './cpu-architecture.js';
import { normaliseFargateSize } from './fargate-sizes.js';
import { containerArn, newAttachmentId, newTaskId, taskArn, taskIdOf } from './identifiers.js';
import type { Cluster, ContainerOverride, Tag, Task, TaskDefinition, TaskOverride } from './model.js';
import { IDEMPOTENCY_TTL_MS } from './store.js';
import { resolveTaskDefinition } from './task-definitions.js';
import { checkClientToken, checkStartedBy, mergeTags, readTags } from './validation.js';

/** RunTask failure reasons AWS returns in `failures[]` with HTTP 200 (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html). */
export const FAILURE_REASONS = {
  capacity: 'Capacity is unavailable at this time. Please try again later or in a different availability zone',
  vcpuLimit: "You've reached the limit on the number of vCPUs you can run concurrently",
} as const;

const NO_CONTAINER_INSTANCES = 'No Container Instances were found in your cluster.';
const PLATFORM_VERSIONS: Record<string, string> = { LATEST: '1.4.0', '1.4.0': '1.4.0', '1.3.0': '1.3.0' };

interface Network {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

function readNetwork(input: Input): Network {
  const configuration = optObject(input, 'networkConfiguration');
  const awsvpc = configuration ? optObject(configuration, 'awsvpcConfiguration') : undefined;
  if (!awsvpc) throw invalidParameter(`Network Configuration must be provided when networkMode 'awsvpc' is specified.`);
  const subnets = optStringList(awsvpc, 'subnets') ?? [];
  const securityGroups = optStringList(awsvpc, 'securityGroups') ?? [];
  const assignPublicIp = optString(awsvpc, 'assignPublicIp') ?? 'DISABLED';
  if (subnets.length === 0) throw invalidParameter('subnets can not be empty.');
  if (subnets.length > 16) throw invalidParameter('subnets can have at most 16 items.');
  if (securityGroups.length > 5) throw invalidParameter('securityGroups can have at most 5 items.');
  for (const subnet of subnets) {
    if (!/^subnet-[0-9a-f]{8,17}$/.test(subnet)) throw invalidParameter(`Error retrieving subnet information for [${subnet}]: The subnet ID '${subnet}' is malformed.`);
  }
  for (const group of securityGroups) {
    if (!/^sg-[0-9a-f]{8,17}$/.test(group)) throw invalidParameter(`Error retrieving security group information for [${group}]: The security group ID '${group}' is malformed.`);
  }
  if (!['ENABLED', 'DISABLED'].includes(assignPublicIp)) throw invalidParameter(`assignPublicIp must be ENABLED or DISABLED, not '${assignPublicIp}'.`);
  return { subnets, securityGroups, assignPublicIp: assignPublicIp === 'ENABLED' };
}

function readOverrides(input: Input, definition: TaskDefinition): TaskOverride {
  const overrides = optObject(input, 'overrides') ?? {};
  if (JSON.stringify(overrides).length > 8192) throw invalidParameter('Container Overrides length must be at most 8192');
  const containerOverrides = (optObjectList(overrides, 'containerOverrides') ?? []).map((item): ContainerOverride => {
    const name = optString(item, 'name');
    if (!name) throw invalidParameter('Container override name can not be blank.');
    if (!definition.containerDefinitions.some((c) => c.name === name)) {
      throw invalidParameter(`Override for container named ${name} is not a container in the TaskDefinition.`);
    }
    const command = optStringList(item, 'command');
    const environment = optKeyValueList(item, 'environment');
    const cpu = optInt(item, 'cpu');
    const memory = optInt(item, 'memory');
    const memoryReservation = optInt(item, 'memoryReservation');
    return {
      ...item,
      name,
      ...(command ? { command } : {}),
      ...(environment ? { environment } : {}),
      ...(cpu !== undefined ? { cpu } : {}),
      ...(memory !== undefined ? { memory } : {}),
      ...(memoryReservation !== undefined ? { memoryReservation } : {}),
    };
  });
  const result: TaskOverride = { containerOverrides, inferenceAcceleratorOverrides: [] };
  const cpu = optString(overrides, 'cpu');
  const memory = optString(overrides, 'memory');
  if (cpu !== undefined || memory !== undefined) {
    const size = normaliseFargateSize(cpu ?? definition.cpu ?? '', memory ?? definition.memory ?? '');
    if (cpu !== undefined) result.cpu = size.cpu;
    if (memory !== undefined) result.memory = size.memory;
  }
  const storage = optObject(overrides, 'ephemeralStorage');
  if (storage) {
    const sizeInGiB = optInt(storage, 'sizeInGiB');
    if (sizeInGiB === undefined || sizeInGiB < 21 || sizeInGiB > 200) throw invalidParameter('The ephemeral storage size must be between 21 and 200 GiB.');
    result.ephemeralStorage = { sizeInGiB };
  }
  const taskRoleArn = optString(overrides, 'taskRoleArn');
  const executionRoleArn = optString(overrides, 'executionRoleArn');
  for (const [field, arn] of [['taskRoleArn', taskRoleArn], ['executionRoleArn', executionRoleArn]] as const) {
    if (arn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) throw invalidParameter(`overrides.${field} is not a valid IAM role ARN: ${arn}`);
  }
  if (taskRoleArn) result.taskRoleArn = taskRoleArn;
  if (executionRoleArn) result.executionRoleArn = executionRoleArn;
  return result;
}

/** Which capacity providers the launch uses, by AWS's rules on launchType, strategy and cluster default. */
function providersFor(input: Input, cluster: Cluster, count: number): string[] {
  const launchType = optString(input, 'launchType');
  const strategy = readStrategy(optObjectList(input, 'capacityProviderStrategy'));
  if (launchType !== undefined && strategy !== undefined && strategy.length > 0) {
    throw invalidParameter('Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  if (launchType !== undefined) {
    if (!['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'].includes(launchType)) throw invalidParameter(`Invalid launchType '${launchType}'.`);
    // This emulator has Fargate only: a cluster without container instances, as AWS answers for EC2.
    if (launchType !== 'FARGATE') throw invalidParameter(NO_CONTAINER_INSTANCES);
    return Array<string>(count).fill('FARGATE');
  }
  const effective = strategy && strategy.length > 0 ? strategy : cluster.defaultCapacityProviderStrategy;
  if (effective.length === 0) throw invalidParameter(NO_CONTAINER_INSTANCES);
  checkStrategyAssociated(effective, cluster.capacityProviders);
  return placeByStrategy(effective, count);
}

/** The request as compared for idempotency: every member but the token, keys sorted. */
function fingerprint(input: Input): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Input)[key])]))
        : value;
  const { clientToken: _token, ...rest } = input;
  return JSON.stringify(canonical(rest));
}

function buildTask(ctx: ServiceContext, init: {
  cluster: Cluster;
  definition: TaskDefinition;
  provider: string;
  overrides: TaskOverride;
  platformVersion: string;
  subnetId: string;
  group: string;
  startedBy?: string;
  tags: Tag[];
  enableExecuteCommand: boolean;
}): Task {
  const id = newTaskId();
  const arn = taskArn(ctx.scope, init.cluster.clusterName, id);
  const defined = init.definition.ephemeralStorage as { sizeInGiB: number } | undefined;
  const storage = init.overrides.ephemeralStorage ?? defined ?? { sizeInGiB: 20 };
  const containerCpu = (name: string, fallback: number | undefined) =>
    String(init.overrides.containerOverrides.find((o) => o.name === name)?.cpu ?? fallback ?? 0);
  return {
    taskArn: arn,
    clusterArn: init.cluster.clusterArn,
    taskDefinitionArn: init.definition.taskDefinitionArn,
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    capacityProviderName: init.provider,
    platformVersion: init.platformVersion,
    platformFamily: 'Linux',
    cpu: init.overrides.cpu ?? init.definition.cpu ?? '256',
    memory: init.overrides.memory ?? init.definition.memory ?? '512',
    availabilityZone: `${ctx.scope.region}a`,
    group: init.group,
    ...(init.startedBy !== undefined ? { startedBy: init.startedBy } : {}),
    version: 1,
    createdAt: epochSeconds(ctx.now()),
    attachments: [{ id: newAttachmentId(), type: 'ElasticNetworkInterface', status: 'PRECREATED', details: [{ name: 'subnetId', value: init.subnetId }] }],
    attributes: [{ name: 'ecs.cpu-architecture', value: taskCpuArchitecture(init.definition).toLowerCase() }],
    containers: init.definition.containerDefinitions.map((definition) => ({
      containerArn: containerArn(ctx.scope, init.cluster.clusterName, id),
      taskArn: arn,
      name: definition.name,
      image: definition.image,
      lastStatus: 'PENDING',
      networkBindings: [],
      networkInterfaces: [],
      healthStatus: 'UNKNOWN',
      cpu: containerCpu(definition.name, definition.cpu),
      ...(definition.memory !== undefined ? { memory: String(definition.memory) } : {}),
      ...(definition.memoryReservation !== undefined ? { memoryReservation: String(definition.memoryReservation) } : {}),
    })),
    overrides: init.overrides,
    healthStatus: 'UNKNOWN',
    enableExecuteCommand: init.enableExecuteCommand,
    ephemeralStorage: storage,
    fargateEphemeralStorage: storage,
    tags: init.tags,
  };
}

/** Decides, per launched task, which injected faults it meets. */
function faultPlan(ctx: ServiceContext, provider: string): TaskFaultPlan {
  const faults = ctx.faults.options;
  const plan: { -readonly [K in keyof TaskFaultPlan]: TaskFaultPlan[K] } = {};
  if (faults.slowProvisioning && ctx.faults.hits('slowProvisioning', faults.slowProvisioning)) plan.extraProvisioningMs = faults.slowProvisioning.extraMs;
  if (faults.startFailure && ctx.faults.hits('startFailure', faults.startFailure)) {
    const { error, message } = faults.startFailure;
    plan.startFailure = { error, ...(message ? { message } : {}) };
  }
  if (faults.lateSshd && ctx.faults.hits('lateSshd', faults.lateSshd)) plan.lateStartMs = faults.lateSshd.delayMs;
  if (provider === 'FARGATE_SPOT' && faults.spotInterruption && ctx.faults.hits('spotInterruption', faults.spotInterruption)) {
    const { afterRunningMs, noticeMs } = faults.spotInterruption;
    plan.spotInterruption = { afterRunningMs: afterRunningMs ?? 1000, noticeMs: noticeMs ?? 2000 };
  }
  return plan;
}

function vcpusInUse(ctx: ServiceContext): number {
  return ctx.store
    .liveTasks(ctx.now())
    .filter(({ task }) => task.lastStatus !== 'STOPPED')
    .reduce((sum, { task }) => sum + Number(task.cpu) / 1024, 0);
}

/** A RunTask request, checked: everything needed to create its tasks. */
interface LaunchRequest {
  readonly cluster: Cluster;
  readonly definition: TaskDefinition;
  readonly providers: string[];
  readonly platformVersion: string;
  readonly network: Network;
  readonly overrides: TaskOverride;
  readonly tags: Tag[];
  readonly startedBy?: string;
  readonly group: string;
  readonly enableExecuteCommand: boolean;
}

/** The answer bound to a reused clientToken (same request), or ConflictException (another request); undefined if unbound. */
function replayedResponse(ctx: ServiceContext, cluster: Cluster, input: Input): unknown {
  const clientToken = optString(input, 'clientToken');
  if (clientToken === undefined) return undefined;
  checkClientToken(clientToken);
  const bound = ctx.store.idempotency.get(`${cluster.clusterArn}|${clientToken}`);
  if (!bound || bound.expiresAt <= ctx.now()) return undefined;
  if (bound.fingerprint === fingerprint(input)) return bound.response;
  throw new AwsError('ConflictException', 'The specified client token has already been used in another request with different parameters.', 400, {
    resourceIds: bound.taskArns,
  });
}

/** The task definition to run: exists, ACTIVE (INACTIVE and DELETE_IN_PROGRESS revisions never run), Fargate-compatible. */
function launchableDefinition(
  ctx: ServiceContext,
  input: Input,
  cluster: Cluster,
  count: number,
): { definition: TaskDefinition; providers: string[] } {
  const definition = resolveTaskDefinition(ctx, reqString(input, 'taskDefinition'));
  if (definition.status !== 'ACTIVE') throw invalidParameter('TaskDefinition is inactive');
  const providers = providersFor(input, cluster, count);
  if (!definition.compatibilities.includes('FARGATE')) throw invalidParameter('Task definition does not support launch_type FARGATE.');
  return { definition, providers };
}

function readPlatformVersion(input: Input): string {
  const requested = optString(input, 'platformVersion') ?? 'LATEST';
  const platformVersion = PLATFORM_VERSIONS[requested];
  if (!platformVersion) throw new AwsError('PlatformUnknownException', `The specified platform version '${requested}' does not exist.`);
  return platformVersion;
}

/** The task's tags: the request's, after the task definition's when `propagateTags` is TASK_DEFINITION. */
function readTaskTags(ctx: ServiceContext, input: Input, definition: TaskDefinition): Tag[] {
  const propagateTags = optString(input, 'propagateTags') ?? 'NONE';
  if (!['TASK_DEFINITION', 'SERVICE', 'NONE'].includes(propagateTags)) throw invalidParameter(`Invalid propagateTags '${propagateTags}'.`);
  if (propagateTags === 'SERVICE') throw invalidParameter('The SERVICE value for propagateTags is only valid for tasks started by a service.');
  const tags = readTags(optObjectList(input, 'tags'));
  return propagateTags === 'TASK_DEFINITION' ? mergeTags(ctx.store.taskDefinitionTags.get(definition.taskDefinitionArn) ?? [], tags) : tags;
}

/** Every check of a RunTask request after the cluster, in AWS's order. */
function readLaunch(ctx: ServiceContext, input: Input, cluster: Cluster, count: number): LaunchRequest {
  const { definition, providers } = launchableDefinition(ctx, input, cluster, count);
  const platformVersion = readPlatformVersion(input);
  const network = readNetwork(input);
  const overrides = readOverrides(input, definition);
  const tags = readTaskTags(ctx, input, definition);
  const startedBy = optString(input, 'startedBy');
  if (startedBy !== undefined) checkStartedBy(startedBy);
  const group = optString(input, 'group') ?? `family:${definition.family}`;
  if (group.length > 255) throw invalidParameter('group can be at most 255 characters.');
  const enableExecuteCommand = optBool(input, 'enableExecuteCommand') ?? false;
  if (enableExecuteCommand && !(overrides.taskRoleArn ?? definition.taskRoleArn)) {
    throw invalidParameter('Task role must be provided when enableExecuteCommand is true.');
  }
  return {
    cluster,
    definition,
    providers,
    platformVersion,
    network,
    overrides,
    tags,
    ...(startedBy !== undefined ? { startedBy } : {}),
    group,
    enableExecuteCommand,
  };
}

/** Places each task on its provider (or a capacity/vCPU failure), creates it and starts its lifecycle. */
function launchTasks(ctx: ServiceContext, launch: LaunchRequest): { tasks: Task[]; failures: { arn: string; reason: string }[] } {
  const { definition, network, overrides } = launch;
  const tasks: Task[] = [];
  const failures: { arn: string; reason: string }[] = [];
  const vcpuLimit = ctx.faults.options.vcpuLimit;
  let vcpus = vcpuLimit === undefined ? 0 : vcpusInUse(ctx);
  for (const provider of launch.providers) {
    const capacity = ctx.faults.options.capacityUnavailable?.[provider as 'FARGATE' | 'FARGATE_SPOT'];
    if (capacity && ctx.faults.hits(`capacity:${provider}`, capacity)) {
      failures.push({ arn: definition.taskDefinitionArn, reason: FAILURE_REASONS.capacity });
      continue;
    }
    const cpu = Number(overrides.cpu ?? definition.cpu ?? 256) / 1024;
    if (vcpuLimit !== undefined && vcpus + cpu > vcpuLimit) {
      failures.push({ arn: definition.taskDefinitionArn, reason: FAILURE_REASONS.vcpuLimit });
      continue;
    }
    vcpus += cpu;
    const subnetId = network.subnets[tasks.length % network.subnets.length]!;
    const task = buildTask(ctx, { ...launch, provider, subnetId });
    const runtime = ctx.launch(task, definition, { subnetId, assignPublicIp: network.assignPublicIp }, faultPlan(ctx, provider));
    ctx.store.tasks.set(taskIdOf(task.taskArn), { task, runtime, missingDescribesLeft: ctx.faults.options.missingDescribes ?? 0 });
    tasks.push(task);
  }
  return { tasks, failures };
}

/** Binds the request's clientToken (if any) to its answer for 24 hours. */
function rememberClientToken(ctx: ServiceContext, cluster: Cluster, input: Input, response: unknown, tasks: readonly Task[]): void {
  const clientToken = optString(input, 'clientToken');
  if (clientToken === undefined) return;
  ctx.store.idempotency.set(`${cluster.clusterArn}|${clientToken}`, {
    fingerprint: fingerprint(input),
    response,
    taskArns: tasks.map((task) => task.taskArn),
    expiresAt: ctx.now() + IDEMPOTENCY_TTL_MS,
  });
}

/** RunTask: check the request, replay a bound clientToken, launch up to `count` tasks, bind the token. */
export function runTask(ctx: ServiceContext, input: Input): unknown {
  const cluster = activeCluster(ctx, optString(input, 'cluster'));
  reqString(input, 'taskDefinition');
  const count = optInt(input, 'count') ?? 1;
  if (count < 1 || count > 10) throw invalidParameter('count must be between 1 and 10.');
  const replay = replayedResponse(ctx, cluster, input);
  if (replay !== undefined) return replay;
  const launch = readLaunch(ctx, input, cluster, count);
  const { tasks, failures } = launchTasks(ctx, launch);
  const response = { tasks: structuredClone(tasks), failures };
  rememberClientToken(ctx, cluster, input, response, tasks);
  return response;
}
