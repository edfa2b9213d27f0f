import { rmSync } from 'node:fs';
import type { DriverConfig } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';
import type { JobEnvironment } from '../job/environment.js';
import type { Logger } from '../log.js';
import { type ClaimRequest, DamagedClaim, claim } from './directory.js';
import type { PoolEntry } from './entry.js';
import { configHash, poolKey } from './pool-key.js';
import { currentKeys } from './task-keys.js';

/**
 * Why a job takes the cold path without trying a task: `no pool` (no `[[Pool]]` configured), `no matching pool` (the
 * job's own RunTask differs from the pool tasks': another size, task definition, Spot choice, or an `image:`), `no
 * ready task` (its pool has no idle task outside the claim margin now), `damaged entry` (the entry it took could not be
 * read: removed, the task left to the keeper's gc).
 */
export type ColdReason = 'no pool' | 'no matching pool' | 'no ready task' | 'damaged entry';

/** A warm task taken for a job, or why there was none. */
export type WarmClaim =
  | { readonly kind: 'warm'; readonly entry: PoolEntry; readonly path: string; readonly claimMs: number }
  | {
    readonly kind: 'cold';
    readonly reason: ColdReason;
    readonly claimMs: number;
    /** The configured `[[Pool]]` names (every pool starts the same tasks, so each could have served the job). */
    readonly pools: readonly string[];
    /** What was wrong, for `damaged entry`. */
    readonly detail?: string;
  };

/** What {@link claimWarmTask} needs: the job's own RunTask plan (after overrides) decides which pool fits. */
export interface WarmClaimInput {
  readonly config: DriverConfig;
  /** The job's environment: the pool tasks' own plan (the keeper's) is computed from it and the config. */
  readonly env: JobEnvironment;
  readonly plan: LaunchPlan;
  /** The job's state-file stem (`stateStem(runnerShortToken, jobId)`): names the claimed entry. */
  readonly jobKey: string;
  /**
   * For an `image:`/`services:` job, the job-image hash (its derived family): the keeper never starts such tasks, so
   * the job finds no matching pool. '' for the task definition's image. @default ''
   */
  readonly imageHash?: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** Where a damaged entry is reported. @default no log */
  readonly log?: Pick<Logger, 'warn'>;
}

/**
 * The claim path of prepare: no AWS call. Computes the job's pool key and config hash from its plan and renames the
 * best ready entry into `claimed/` (see `directory.ts`). The caller then connects with `entry.privateKey`, pins
 * `entry.hostKey`, takes the in-task lock (`mkdir POOL_CLAIM_LOCK_DIR`) as its first command, and on any failure
 * stops that task, removes `path`, and tries once more or takes the cold path.
 */
export function claimWarmTask(input: WarmClaimInput): WarmClaim {
  const now = input.now ?? Date.now;
  const started = now();
  const { directory, claimMargin } = input.config.poolDefaults;
  const pools = input.config.pools.map((pool) => pool.name);
  if (pools.length === 0 || directory === undefined) return { kind: 'cold', reason: 'no pool', claimMs: 0, pools };
  const key = poolKey(input.plan, input.imageHash);
  if (key !== currentKeys(input).poolKey) return { kind: 'cold', reason: 'no matching pool', claimMs: now() - started, pools };
  const request: ClaimRequest = {
    root: directory,
    pools,
    poolKey: key,
    configHash: configHash(key, input.config),
    jobKey: input.jobKey,
    claimMarginSeconds: claimMargin,
    nowMs: started,
  };
  let claimed;
  try {
    claimed = claim(request);
  } catch (error) {
    if (!(error instanceof DamagedClaim)) throw error;
    giveUpDamaged(error, input.log);
    return { kind: 'cold', reason: 'damaged entry', claimMs: now() - started, pools, detail: error.message };
  }
  const claimMs = now() - started;
  if (claimed === undefined) return { kind: 'cold', reason: 'no ready task', claimMs, pools };
  return { kind: 'warm', entry: claimed.entry, path: claimed.path, claimMs };
}

/** Removes a damaged claimed entry: its task (named only by the unreadable file) has no entry then, so gc stops it. */
function giveUpDamaged(error: DamagedClaim, log: Pick<Logger, 'warn'> | undefined): void {
  rmSync(error.path, { force: true });
  log?.warn(`${error.message}; removed it, and the keeper's gc stops its task (no entry names it now); taking the cold path`);
}
