import { AwsError, invalidParameter } from '../wire/aws-error.js';
import { optObjectList, optStringList, reqString, type Input } from '../wire/input.js';
import type { ServiceContext } from './context.js';
import { clusterNameOf, parseTaskDefinitionReference, taskIdOf } from './identifiers.js';
import type { Tag } from './model.js';
import { mergeTags, readTags } from './validation.js';

interface TagHolder {
  get(): Tag[];
  set(tags: Tag[]): void;
}

const notFound = (arn: string) => new AwsError('ResourceNotFoundException', `The specified resource could not be found: ${arn}`);

/** Finds the tags of a cluster, task definition or task by ARN (tasks need the long ARN format). */
function holder(ctx: ServiceContext, arn: string): TagHolder {
  const match = /^arn:aws[a-z-]*:ecs:([^:]*):(\d{12}):([a-z-]+)\/(.+)$/.exec(arn);
  if (!match) throw invalidParameter(`The ARN '${arn}' is not a valid ECS resource ARN.`);
  const [, , , kind, rest] = match;
  if (kind === 'cluster') {
    const cluster = ctx.store.clusters.get(clusterNameOf(arn));
    if (!cluster || cluster.status !== 'ACTIVE') throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    return { get: () => cluster.tags, set: (tags) => (cluster.tags = tags) };
  }
  if (kind === 'task-definition') {
    const { family, revision } = parseTaskDefinitionReference(arn);
    const definition = revision === undefined ? undefined : ctx.store.families.get(family)?.[revision - 1];
    if (!definition) throw notFound(arn);
    const key = definition.taskDefinitionArn;
    return { get: () => ctx.store.taskDefinitionTags.get(key) ?? [], set: (tags) => ctx.store.taskDefinitionTags.set(key, tags) };
  }
  if (kind === 'task') {
    if (!rest!.includes('/')) throw invalidParameter('Long arn format must be used for tagging operations.');
    const record = ctx.store.tasks.get(taskIdOf(arn));
    if (!record || record.task.taskArn !== arn || (record.expiresAt !== undefined && record.expiresAt <= ctx.now())) throw notFound(arn);
    return { get: () => record.task.tags, set: (tags) => (record.task.tags = tags) };
  }
  throw notFound(arn);
}

export function tagResource(ctx: ServiceContext, input: Input): unknown {
  const target = holder(ctx, reqString(input, 'resourceArn'));
  const tags = readTags(optObjectList(input, 'tags'));
  if (tags.length === 0) throw invalidParameter('tags can not be empty.');
  target.set(mergeTags(target.get(), tags));
  return {};
}

export function untagResource(ctx: ServiceContext, input: Input): unknown {
  const target = holder(ctx, reqString(input, 'resourceArn'));
  const keys = optStringList(input, 'tagKeys');
  if (!keys || keys.length === 0) throw invalidParameter('tagKeys can not be empty.');
  target.set(target.get().filter((tag) => !keys.includes(tag.key)));
  return {};
}

export function listTagsForResource(ctx: ServiceContext, input: Input): unknown {
  return { tags: holder(ctx, reqString(input, 'resourceArn')).get() };
}
