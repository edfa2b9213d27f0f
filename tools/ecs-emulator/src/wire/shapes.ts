import { AwsError } from './aws-error.js';

type MemberType = 'string' | 'integer' | 'boolean' | 'list' | 'structure';

const S = 'string';
const I = 'integer';
const B = 'boolean';
const L = 'list';
const T = 'structure';

/**
 * Top-level member types per operation (from the ECS model). AWS deserializes the whole input before any
 * check of meaning, so a member of the wrong JSON type is a `SerializationException` even when, say, the
 * cluster does not exist; this table lets the emulator answer in that order.
 */
export const INPUT_MEMBERS: Readonly<Record<string, Readonly<Record<string, MemberType>>>> = {
  CreateCluster: {
    clusterName: S, tags: L, settings: L, configuration: T, capacityProviders: L,
    defaultCapacityProviderStrategy: L, serviceConnectDefaults: T,
  },
  DescribeClusters: { clusters: L, include: L },
  DeleteCluster: { cluster: S },
  PutClusterCapacityProviders: { cluster: S, capacityProviders: L, defaultCapacityProviderStrategy: L },
  RegisterTaskDefinition: {
    family: S, taskRoleArn: S, executionRoleArn: S, networkMode: S, containerDefinitions: L, volumes: L, placementConstraints: L,
    requiresCompatibilities: L, cpu: S, memory: S, tags: L, pidMode: S, ipcMode: S, proxyConfiguration: T,
    inferenceAccelerators: L, ephemeralStorage: T, runtimePlatform: T, enableFaultInjection: B,
  },
  DescribeTaskDefinition: { taskDefinition: S, include: L },
  DeregisterTaskDefinition: { taskDefinition: S },
  ListTaskDefinitions: { familyPrefix: S, status: S, sort: S, nextToken: S, maxResults: I },
  DeleteTaskDefinitions: { taskDefinitions: L },
  ListTaskDefinitionFamilies: { familyPrefix: S, status: S, nextToken: S, maxResults: I },
  RunTask: {
    capacityProviderStrategy: L, cluster: S, count: I, enableECSManagedTags: B, enableExecuteCommand: B, group: S, launchType: S,
    networkConfiguration: T, overrides: T, placementConstraints: L, placementStrategy: L, platformVersion: S, propagateTags: S,
    referenceId: S, startedBy: S, tags: L, taskDefinition: S, clientToken: S, volumeConfigurations: L,
  },
  DescribeTasks: { cluster: S, tasks: L, include: L },
  StopTask: { cluster: S, task: S, reason: S },
  ListTasks: {
    cluster: S, containerInstance: S, family: S, nextToken: S, maxResults: I, startedBy: S, serviceName: S, desiredStatus: S, launchType: S,
  },
  TagResource: { resourceArn: S, tags: L },
  UntagResource: { resourceArn: S, tagKeys: L },
  ListTagsForResource: { resourceArn: S },
};

function typeOf(value: unknown): MemberType | 'null' | 'number' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'structure';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as MemberType;
}

/** Throws `SerializationException` naming the first top-level member whose JSON type does not fit the model. */
export function checkInputTypes(operation: string, input: Record<string, unknown>): void {
  const members = INPUT_MEMBERS[operation];
  if (!members) return;
  for (const [name, value] of Object.entries(input)) {
    const expected = members[name];
    const actual = typeOf(value);
    if (expected && actual !== 'null' && actual !== expected) {
      throw new AwsError('SerializationException', `Member '${name}' of ${operation} must be a ${expected}, got a ${actual}.`);
    }
  }
}
