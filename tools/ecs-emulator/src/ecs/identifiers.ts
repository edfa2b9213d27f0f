import { randomBytes, randomUUID } from 'node:crypto';

/** Where ARNs point: the emulated account and Region. */
export interface ArnScope {
  readonly region: string;
  readonly accountId: string;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A task id as real ECS makes them: 32 hex characters. */
export const newTaskId = (): string => hex(16);
export const newEniId = (): string => `eni-${hex(9).slice(0, 17)}`;
export const newAttachmentId = (): string => randomUUID();
/** A locally administered unicast MAC, like the 0a:… / 02:… addresses AWS ENIs show. */
export const newMacAddress = (): string => `0a:${hex(5).match(/../g)!.join(':')}`;

export const clusterArn = (scope: ArnScope, name: string): string =>
  `arn:aws:ecs:${scope.region}:${scope.accountId}:cluster/${name}`;
export const taskDefinitionArn = (scope: ArnScope, family: string, revision: number): string =>
  `arn:aws:ecs:${scope.region}:${scope.accountId}:task-definition/${family}:${revision}`;
export const taskArn = (scope: ArnScope, cluster: string, id: string): string =>
  `arn:aws:ecs:${scope.region}:${scope.accountId}:task/${cluster}/${id}`;
export const containerArn = (scope: ArnScope, cluster: string, taskId: string): string =>
  `arn:aws:ecs:${scope.region}:${scope.accountId}:container/${cluster}/${taskId}/${randomUUID()}`;

/** The cluster name from a name or a cluster ARN; `default` when omitted, as ECS does. */
export function clusterNameOf(reference: string | undefined): string {
  if (!reference) return 'default';
  const match = /^arn:aws[a-z-]*:ecs:[^:]*:[^:]*:cluster\/(.+)$/.exec(reference);
  return match ? match[1]! : reference;
}

/** The task id from a task id, a long task ARN (`task/<cluster>/<id>`) or a short one (`task/<id>`). */
export function taskIdOf(reference: string): string {
  const match = /^arn:aws[a-z-]*:ecs:[^:]*:[^:]*:task\/(?:[^/]+\/)?([^/]+)$/.exec(reference);
  return match ? match[1]! : reference;
}

/** Splits `family`, `family:revision` or a task-definition ARN. */
export function parseTaskDefinitionReference(reference: string): { family: string; revision?: number } {
  const arn = /^arn:aws[a-z-]*:ecs:[^:]*:[^:]*:task-definition\/(.+)$/.exec(reference);
  const body = arn ? arn[1]! : reference;
  const colon = body.lastIndexOf(':');
  if (colon < 0) return { family: body };
  const revision = Number(body.slice(colon + 1));
  if (!Number.isInteger(revision) || revision < 1) return { family: body };
  return { family: body.slice(0, colon), revision };
}
