import {
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  type ECSClient,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { SystemFailure } from '../errors.js';
import type { DerivedTaskDefinition } from '../job-image/derive.js';
import { TASK_DEFINITION_TAGS } from '../job-image/derive.js';
import { contentHash } from '../job-image/content.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { backoffDelay, classifyAwsError, describeAwsError } from './errors.js';
import { readTaskDefinitionCache, tryLock, updateTaskDefinitionCache, type CachedTaskDefinition, type HeldLock } from './task-definition-cache.js';

/** ECS's answer when another RegisterTaskDefinition into the same family is in flight (seen by Prefect's ECS worker). */
const CONCURRENT_REVISION = 'Too many concurrent attempts to create a new revision of the specified family';
const DAY_MS = 86_400_000;

/** Options of {@link ensureTaskDefinition}. */
export interface EnsureTaskDefinitionOptions {
  /**
   * The local cache (hash → ARN, mode 0600), e.g. `<[TaskMetadata] Directory>/task-definitions.json`; its folder also
   * holds the per-hash lock that lets one prepare of this runner register while the others wait.
   * @default none: every call describes, and registrations of this runner are not serialised
   */
  readonly cacheFile?: string;
  /** Describe-or-register rounds (throttling and concurrent registrations) before giving up. @default 8 */
  readonly maxAttempts?: number;
  /** First backoff pause. @default 1000 */
  readonly baseDelayMs?: number;
  /** @default 20000 */
  readonly maxDelayMs?: number;
  /** How long to wait for another process's lock before registering anyway. @default 120000 */
  readonly lockWaitMs?: number;
  /** A lock older than this belongs to a crashed process and is broken. @default 60000 */
  readonly lockStaleMs?: number;
  readonly now?: () => number;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly signal?: AbortSignal;
  /** Progress lines for the job log. */
  readonly progress?: (message: string) => void;
}

/** The task definition a job runs with, and how it was found. */
export interface EnsuredTaskDefinition {
  readonly arn: string;
  readonly family: string;
  /** `cache`: the local file; `described`: ECS had it; `registered`: this call registered it. */
  readonly source: 'cache' | 'described' | 'registered';
}

type Settings = Required<Omit<EnsureTaskDefinitionOptions, 'cacheFile' | 'signal' | 'progress'>> & Pick<EnsureTaskDefinitionOptions, 'cacheFile' | 'signal' | 'progress'>;

function settingsOf(options: EnsureTaskDefinitionOptions): Settings {
  return {
    maxAttempts: 8,
    baseDelayMs: 1000,
    maxDelayMs: 20_000,
    lockWaitMs: 120_000,
    lockStaleMs: 60_000,
    now: Date.now,
    sleep: defaultSleep,
    random: Math.random,
    ...options,
  };
}

/** ECS's answer for a family or revision it does not know. */
function isUnknownDefinition(error: unknown): boolean {
  return (error as Error).name === 'ClientException' && /unable to describe task definition/i.test((error as Error).message);
}

/** The family's latest ACTIVE revision, and whether its content is this definition's; undefined when there is none. */
interface DescribedRevision {
  readonly arn: string;
  /** Its content hashes to the job's hash: a revision with the right tags but another image, role or container does not. */
  readonly matches: boolean;
}

/**
 * The family's latest ACTIVE revision. Its hash tag must agree (else the family is someone else's, and the job fails
 * with what to do); its content is hashed again, since anyone allowed to register task definitions can put other
 * content behind a family name and tags.
 */
async function describeFamily(ecs: ECSClient, derived: DerivedTaskDefinition): Promise<DescribedRevision | undefined> {
  let definition: TaskDefinition | undefined;
  let hashTag: string | undefined;
  try {
    const answer = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: derived.family, include: ['TAGS'] }));
    definition = answer.taskDefinition;
    hashTag = answer.tags?.find((tag) => tag.key === TASK_DEFINITION_TAGS.hash)?.value;
  } catch (error) {
    if (isUnknownDefinition(error)) return undefined;
    throw error;
  }
  if (definition?.taskDefinitionArn === undefined || definition.status !== 'ACTIVE') return undefined;
  if (hashTag !== derived.hash) {
    throw new SystemFailure(
      `task definition family ${derived.family} exists but is not this job's definition (its ${TASK_DEFINITION_TAGS.hash} tag is ` +
        `${JSON.stringify(hashTag ?? null)}, expected ${derived.hash}): deregister that family, or set another [JobImages] FamilyPrefix`,
    );
  }
  return { arn: definition.taskDefinitionArn, matches: contentHash(definition) === derived.hash };
}

async function register(ecs: ECSClient, derived: DerivedTaskDefinition): Promise<string> {
  const answer = await ecs.send(new RegisterTaskDefinitionCommand(derived.input));
  const arn = answer.taskDefinition?.taskDefinitionArn;
  if (arn === undefined) throw new SystemFailure(`RegisterTaskDefinition for ${derived.family} answered without a task definition ARN`);
  return arn;
}

/** Throttling, ECS's same-family concurrency error, or a transient failure: worth a pause and a fresh look. */
function isRetryable(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? '';
  return classifyAwsError(error) !== 'permanent' || (error as Error).name === 'LimitExceededException' || message.includes(CONCURRENT_REVISION);
}

/** Describe, else register; on throttling or a concurrent registration, back off with jitter and describe again. */
async function describeOrRegister(ecs: ECSClient, derived: DerivedTaskDefinition, s: Settings): Promise<EnsuredTaskDefinition> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const described = await describeFamily(ecs, derived);
      if (described?.matches === true) return { arn: described.arn, family: derived.family, source: 'described' };
      s.progress?.(
        described === undefined
          ? `registering task definition ${derived.family} for this job's image and services`
          : `task definition ${described.arn} carries this job's tags but not its content (another image, role or container): registering a new revision`,
      );
      return { arn: await register(ecs, derived), family: derived.family, source: 'registered' };
    } catch (error) {
      if (error instanceof SystemFailure || !isRetryable(error) || attempt >= s.maxAttempts) {
        if (error instanceof SystemFailure) throw error;
        throw new SystemFailure(`cannot register task definition ${derived.family} after ${attempt} attempts: ${describeAwsError(error)}`, { cause: error });
      }
      const pause = backoffDelay(attempt, s.baseDelayMs, s.maxDelayMs, s.random);
      s.progress?.(`${describeAwsError(error)}; describing ${derived.family} again in ${(pause / 1000).toFixed(1)} s`);
      await s.sleep(pause, s.signal);
    }
  }
}

/**
 * Whether a cached revision can still run the job: ACTIVE, and its content still hashes to the job's hash. A failed
 * look counts as yes (RunTask will tell).
 */
async function stillUsable(ecs: ECSClient, arn: string, hash: string): Promise<boolean> {
  try {
    const { taskDefinition } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    return taskDefinition?.status === 'ACTIVE' && contentHash(taskDefinition) === hash;
  } catch (error) {
    return !isUnknownDefinition(error);
  }
}

/**
 * The cached entry for this definition, recording this use. Once a day per entry it checks that the revision is still
 * ACTIVE (gc on another runner may have retired a family this one had not used for the TTL) and that its content still
 * hashes to the job's hash (an entry is only written for a revision whose content was checked, and a revision's
 * content never changes, so this guards against a cache written otherwise); else the entry is dropped and the
 * definition described or registered again. It also refreshes the last-used tag.
 */
async function fromCache(ecs: ECSClient, derived: DerivedTaskDefinition, s: Settings): Promise<EnsuredTaskDefinition | undefined> {
  if (s.cacheFile === undefined) return undefined;
  const entry = readTaskDefinitionCache(s.cacheFile)[derived.hash];
  if (entry === undefined || entry.family !== derived.family) return undefined;
  const now = s.now();
  const tagDue = entry.lastTaggedAt === undefined || now - Date.parse(entry.lastTaggedAt) >= DAY_MS;
  if (tagDue && !(await stillUsable(ecs, entry.arn, derived.hash))) {
    forget(s.cacheFile, derived.hash, s);
    return undefined;
  }
  if (tagDue) await tagUsed(ecs, entry, now, s);
  const at = new Date(now).toISOString();
  remember(s, derived.hash, { ...entry, lastUsedAt: at, ...(tagDue ? { lastTaggedAt: at } : {}) });
  return { arn: entry.arn, family: entry.family, source: 'cache' };
}

/**
 * Tags the definition `gitlab-fargate:last-used` = now: how gc on any runner of the account knows it is in use. Best
 * effort: a failure only means gc may retire it sooner (a later job registers it again).
 */
async function tagUsed(ecs: ECSClient, entry: Pick<CachedTaskDefinition, 'arn' | 'family'>, now: number, s: Settings): Promise<void> {
  try {
    const tags = [{ key: TASK_DEFINITION_TAGS.lastUsed, value: new Date(now).toISOString() }];
    await ecs.send(new TagResourceCommand({ resourceArn: entry.arn, tags }));
  } catch (error) {
    s.progress?.(`could not tag ${entry.family} as used (${describeAwsError(error)}); gc may retire it sooner`);
  }
}

function remember(s: Settings, hash: string, entry: CachedTaskDefinition): void {
  if (s.cacheFile === undefined) return;
  try {
    updateTaskDefinitionCache(s.cacheFile, (entries) => {
      entries[hash] = entry;
    });
  } catch (error) {
    s.progress?.(`could not update the task definition cache ${s.cacheFile} (${describeAwsError(error)}); the next job describes again`);
  }
}

function forget(cacheFile: string, hash: string, s: Settings): void {
  try {
    updateTaskDefinitionCache(cacheFile, (entries) => {
      delete entries[hash];
    });
  } catch (error) {
    s.progress?.(`could not update the task definition cache ${cacheFile} (${describeAwsError(error)})`);
  }
}

/** Waits for this runner's lock on the hash; undefined when another process kept it past `lockWaitMs`. */
async function lock(derived: DerivedTaskDefinition, s: Settings): Promise<HeldLock | undefined> {
  if (s.cacheFile === undefined) return undefined;
  const path = `${s.cacheFile}.${derived.hash.slice(0, 16)}.lock`;
  const deadline = s.now() + s.lockWaitMs;
  for (;;) {
    const held = tryLock(path, s.lockStaleMs, s.now());
    if (held !== undefined || s.now() >= deadline) return held;
    await s.sleep(50 + Math.round(s.random() * 150), s.signal);
    if (readTaskDefinitionCache(s.cacheFile)[derived.hash] !== undefined) return undefined;
  }
}

/**
 * The ARN of the job's derived task definition: from the local cache; else, holding this runner's lock for the hash,
 * from DescribeTaskDefinition(family) (the read bucket, 20/s) or else RegisterTaskDefinition with its tags (the
 * modify bucket, 1/s). Throttling and `Too many concurrent attempts to create a new revision` (another runner
 * registering the same family) are retried with backoff and jitter, describing again first. One family per hash keeps
 * each definition at revision 1.
 * @throws SystemFailure when ECS refuses the definition, or keeps throttling past `maxAttempts`.
 */
export async function ensureTaskDefinition(
  ecs: ECSClient,
  derived: DerivedTaskDefinition,
  options: EnsureTaskDefinitionOptions = {},
): Promise<EnsuredTaskDefinition> {
  const s = settingsOf(options);
  const cached = await fromCache(ecs, derived, s);
  if (cached !== undefined) return cached;
  const held = await lock(derived, s);
  try {
    const again = held === undefined ? await fromCache(ecs, derived, s) : undefined;
    if (again !== undefined) return again;
    const found = await describeOrRegister(ecs, derived, s);
    // A registration is its own evidence of use (registeredAt); a definition found in ECS may be old: tag it.
    if (found.source === 'described') await tagUsed(ecs, found, s.now(), s);
    const now = new Date(s.now()).toISOString();
    remember(s, derived.hash, { family: found.family, arn: found.arn, lastUsedAt: now, lastTaggedAt: now });
    return found;
  } finally {
    held?.release();
  }
}
