import { invalidParameter } from '../wire/aws-error.js';
import { optInt, optString, type Input } from '../wire/input.js';
import { paginate } from '../wire/pagination.js';
import type { ServiceContext } from './context.js';
import type { TaskDefinition } from './model.js';

/** ListTaskDefinitions: revisions of one family (`familyPrefix` is the full family name) in one status. */
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

const FAMILY_FILTERS: Readonly<Record<string, (revisions: readonly TaskDefinition[]) => boolean>> = {
  ACTIVE: (revisions) => revisions.some((definition) => definition.status === 'ACTIVE'),
  INACTIVE: (revisions) => !revisions.some((definition) => definition.status === 'ACTIVE'),
  ALL: () => true,
};

/**
 * ListTaskDefinitionFamilies: family names starting with `familyPrefix`, sorted. `status` ACTIVE: families with an
 * ACTIVE revision; INACTIVE: families without one; ALL (the default): both.
 */
export function listTaskDefinitionFamilies(ctx: ServiceContext, input: Input): unknown {
  const prefix = optString(input, 'familyPrefix') ?? '';
  const status = optString(input, 'status') ?? 'ALL';
  const keep = FAMILY_FILTERS[status];
  if (!keep) throw invalidParameter(`Invalid status '${status}': expected ACTIVE, INACTIVE or ALL.`);
  const families = [...ctx.store.families.entries()]
    .filter(([name, revisions]) => name.startsWith(prefix) && keep(revisions))
    .map(([name]) => name)
    .sort();
  const { page, nextToken } = paginate(families, optInt(input, 'maxResults'), optString(input, 'nextToken'));
  return { families: page, ...(nextToken ? { nextToken } : {}) };
}
