import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  type ECSClient,
  type TaskDefinitionStatus,
} from '@aws-sdk/client-ecs';
import { TASK_DEFINITION_TAGS } from '../job-image/derive.js';
import { isDerivedFamily } from '../job-image/hash.js';
import { readTaskDefinitionCache, updateTaskDefinitionCache } from './task-definition-cache.js';

/** A derived family gc may retire: its revisions to deregister (unused for the TTL) and to delete (deregistered for it). */
export interface UnusedFamily {
  readonly family: string;
  /** ACTIVE revisions unused for longer than the TTL. */
  readonly activeArns: readonly string[];
  /** INACTIVE revisions deregistered longer than the TTL ago. */
  readonly inactiveArns: readonly string[];
  /** ISO 8601: the latest evidence of use (registration, the `gitlab-fargate:last-used` tag, this runner's cache). */
  readonly lastUsedAt: string;
}

/** Options of {@link listUnusedFamilies}. */
export interface ListUnusedFamiliesOptions {
  /** `[JobImages] FamilyPrefix`: only `<prefix>-<16 hex digits>` families that carry `gitlab-fargate:managed=true` are considered. */
  readonly familyPrefix: string;
  /** `[JobImages] UnusedFamilyTTL`, in seconds. */
  readonly ttlSeconds: number;
  /** This runner's cache, whose last-use times count as evidence too. @default none */
  readonly cacheFile?: string;
  readonly now?: () => number;
}

const FAMILY_OF_ARN = /:task-definition\/([A-Za-z0-9_-]+):\d+$/;

async function listArns(ecs: ECSClient, status: TaskDefinitionStatus, prefix: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    // ListTaskDefinitions' familyPrefix is an exact family on AWS: list them all and keep our families.
    const request = { status, maxResults: 100, ...(nextToken === undefined ? {} : { nextToken }) };
    const page = await ecs.send(new ListTaskDefinitionsCommand(request));
    for (const arn of page.taskDefinitionArns ?? []) {
      const family = FAMILY_OF_ARN.exec(arn)?.[1];
      if (family !== undefined && isDerivedFamily(family, prefix)) arns.push(arn);
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return arns;
}

interface Revision {
  readonly arn: string;
  readonly family: string;
  readonly lastUsedMs: number;
  readonly deregisteredMs?: number;
}

/** A revision's evidence of use, or undefined when it is not one this driver manages. */
async function describeRevision(ecs: ECSClient, arn: string, cacheLastUse: ReadonlyMap<string, number>): Promise<Revision | undefined> {
  const { taskDefinition, tags = [] } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }));
  const tag = (key: string): string | undefined => tags.find((candidate) => candidate.key === key)?.value;
  if (taskDefinition?.family === undefined || tag(TASK_DEFINITION_TAGS.managed) !== 'true') return undefined;
  const evidence = [taskDefinition.registeredAt?.getTime() ?? 0, Date.parse(tag(TASK_DEFINITION_TAGS.lastUsed) ?? '') || 0, cacheLastUse.get(arn) ?? 0];
  return {
    arn,
    family: taskDefinition.family,
    lastUsedMs: Math.max(...evidence),
    ...(taskDefinition.deregisteredAt === undefined ? {} : { deregisteredMs: taskDefinition.deregisteredAt.getTime() }),
  };
}

/**
 * The derived families with something for gc to do: ACTIVE revisions whose latest use is older than the TTL (to
 * deregister), and INACTIVE ones deregistered longer than the TTL ago (to delete). The template's family and anyone
 * else's are never listed: a family must be `<prefix>-<16 hex digits>` and tagged `gitlab-fargate:managed=true`.
 */
export async function listUnusedFamilies(ecs: ECSClient, options: ListUnusedFamiliesOptions): Promise<UnusedFamily[]> {
  const now = (options.now ?? Date.now)();
  const ttlMs = options.ttlSeconds * 1000;
  const cached = options.cacheFile === undefined ? {} : readTaskDefinitionCache(options.cacheFile);
  const cacheLastUse = new Map(Object.values(cached).map((entry) => [entry.arn, Date.parse(entry.lastUsedAt) || 0]));
  const families = new Map<string, { active: string[]; inactive: string[]; lastUsedMs: number }>();
  for (const status of ['ACTIVE', 'INACTIVE'] as const) {
    for (const arn of await listArns(ecs, status, options.familyPrefix)) {
      const revision = await describeRevision(ecs, arn, cacheLastUse);
      if (revision === undefined) continue;
      const family = families.get(revision.family) ?? { active: [], inactive: [], lastUsedMs: 0 };
      family.lastUsedMs = Math.max(family.lastUsedMs, revision.lastUsedMs);
      if (status === 'ACTIVE' && now - revision.lastUsedMs > ttlMs) family.active.push(arn);
      if (status === 'INACTIVE' && revision.deregisteredMs !== undefined && now - revision.deregisteredMs > ttlMs) family.inactive.push(arn);
      families.set(revision.family, family);
    }
  }
  return [...families]
    .filter(([, family]) => family.active.length > 0 || family.inactive.length > 0)
    .map(([name, family]) => ({
      family: name,
      activeArns: family.active,
      inactiveArns: family.inactive,
      lastUsedAt: new Date(family.lastUsedMs).toISOString(),
    }));
}

/** What {@link retireFamily} did (or, with `dryRun`, would do). */
export interface RetiredFamily {
  readonly deregistered: readonly string[];
  readonly deleted: readonly string[];
}

/**
 * Deregisters the family's unused ACTIVE revisions (tasks running from them keep running; new RunTasks fail) and
 * deletes its long-INACTIVE ones (DeleteTaskDefinitions, at most 10 per call), and forgets them in this runner's
 * cache, so a later job of that image registers again.
 */
export async function retireFamily(
  ecs: ECSClient,
  family: UnusedFamily,
  options: { readonly cacheFile?: string; readonly dryRun?: boolean } = {},
): Promise<RetiredFamily> {
  if (options.dryRun === true) return { deregistered: family.activeArns, deleted: family.inactiveArns };
  for (const arn of family.activeArns) await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  const gone = new Set(family.activeArns);
  if (options.cacheFile !== undefined && gone.size > 0) {
    updateTaskDefinitionCache(options.cacheFile, (entries) => {
      for (const [hash, entry] of Object.entries(entries)) if (gone.has(entry.arn)) delete entries[hash];
    });
  }
  for (let index = 0; index < family.inactiveArns.length; index += 10) {
    await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: family.inactiveArns.slice(index, index + 10) }));
  }
  return { deregistered: family.activeArns, deleted: family.inactiveArns };
}
