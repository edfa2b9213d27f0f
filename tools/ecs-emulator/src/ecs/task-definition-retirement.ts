import { clientException, invalidParameter } from '../wire/aws-error.js';
import { optStringList, reqString, type Input } from '../wire/input.js';
import { epochSeconds } from '../wire/json-protocol.js';
import type { ServiceContext } from './context.js';
import { parseTaskDefinitionReference, taskDefinitionArn } from './identifiers.js';
import type { TaskDefinition } from './model.js';
import { resolveTaskDefinition } from './task-definitions.js';

/** DeleteTaskDefinitions takes at most this many revisions per call (model documentation). */
const MAX_DELETIONS = 10;
/** The failure reason for deleting a revision that was not deregistered first. */
const STILL_ACTIVE_REASON = 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.';

/** DeregisterTaskDefinition: `family:revision` or an ARN (a revision is required) → INACTIVE with `deregisteredAt`. */
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

/**
 * DeleteTaskDefinitions: each INACTIVE revision turns DELETE_IN_PROGRESS (still describable, never runnable);
 * ACTIVE or unknown ones are `failures[]`, as on AWS. At most 10 per call.
 */
export function deleteTaskDefinitions(ctx: ServiceContext, input: Input): unknown {
  const references = optStringList(input, 'taskDefinitions') ?? [];
  if (references.length === 0) throw invalidParameter('taskDefinitions can not be empty.');
  if (references.length > MAX_DELETIONS) throw invalidParameter(`taskDefinitions can have at most ${MAX_DELETIONS} items.`);
  const deleted: TaskDefinition[] = [];
  const failures: { arn: string; reason: string; detail?: string }[] = [];
  for (const reference of references) {
    const { family, revision } = parseTaskDefinitionReference(reference);
    if (revision === undefined) throw clientException('The specified task definition identifier is invalid. Specify a valid name or ARN and try again.');
    const arn = taskDefinitionArn(ctx.scope, family, revision);
    const definition = ctx.store.families.get(family)?.[revision - 1];
    if (!definition) failures.push({ arn, reason: 'TASK_DEFINITION_NOT_FOUND' });
    else if (definition.status === 'ACTIVE') failures.push({ arn, reason: STILL_ACTIVE_REASON });
    else {
      definition.status = 'DELETE_IN_PROGRESS';
      deleted.push(definition);
    }
  }
  return { taskDefinitions: deleted, failures };
}
