import { AwsError } from '../wire/aws-error.js';
import type { Input } from '../wire/input.js';
import { createCluster, deleteCluster, describeClusters, putClusterCapacityProviders } from './clusters.js';
import type { ServiceContext } from './context.js';
import { runTask } from './run-task.js';
import { listTagsForResource, tagResource, untagResource } from './tags.js';
import { listTaskDefinitionFamilies, listTaskDefinitions } from './task-definition-lists.js';
import { deleteTaskDefinitions, deregisterTaskDefinition } from './task-definition-retirement.js';
import { describeTaskDefinition, registerTaskDefinition } from './task-definitions.js';
import { describeTasks, listTasks, stopTask } from './tasks.js';

export type OperationHandler = (ctx: ServiceContext, input: Input) => unknown;

/** Every ECS operation the emulator serves, by the name in `X-Amz-Target`. */
export const OPERATIONS: Readonly<Record<string, OperationHandler>> = {
  CreateCluster: createCluster,
  DescribeClusters: describeClusters,
  DeleteCluster: deleteCluster,
  PutClusterCapacityProviders: putClusterCapacityProviders,
  RegisterTaskDefinition: registerTaskDefinition,
  DescribeTaskDefinition: describeTaskDefinition,
  DeregisterTaskDefinition: deregisterTaskDefinition,
  ListTaskDefinitions: listTaskDefinitions,
  DeleteTaskDefinitions: deleteTaskDefinitions,
  ListTaskDefinitionFamilies: listTaskDefinitionFamilies,
  RunTask: runTask,
  DescribeTasks: describeTasks,
  StopTask: stopTask,
  ListTasks: listTasks,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};

/** Runs an operation by name (the router has checked that it exists); some answer asynchronously. */
export function runOperation(ctx: ServiceContext, operation: string, input: Input): unknown {
  const handler = OPERATIONS[operation];
  if (!handler) throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported by this emulator.`);
  return handler(ctx, input);
}
