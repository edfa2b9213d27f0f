import type { DriverConfig } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';
import { type ClaimRequest, claim } from './directory.js';
import type { PoolEntry } from './entry.js';
import { configHash, poolKey } from './pool-key.js';

/** A warm task taken for a job, or why there was none. */
export type WarmClaim =
  | { readonly kind: 'warm'; readonly entry: PoolEntry; readonly path: string; readonly claimMs: number }
  | { readonly kind: 'cold'; readonly reason: 'no pool' | 'no ready task'; readonly claimMs: number };

/** What {@link claimWarmTask} needs: the job's own RunTask plan (after overrides) decides which pool fits. */
export interface WarmClaimInput {
  readonly config: DriverConfig;
  readonly plan: LaunchPlan;
  /** The job's state-file stem (`stateStem(runnerShortToken, jobId)`): names the claimed entry. */
  readonly jobKey: string;
  /** Reserved for `image:` jobs (the job-image hash); '' for the task definition's image. @default '' */
  readonly imageHash?: string;
  /** @default Date.now */
  readonly now?: () => number;
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
  if (input.config.pools.length === 0 || directory === undefined) return { kind: 'cold', reason: 'no pool', claimMs: 0 };
  const key = poolKey(input.plan, input.imageHash);
  const request: ClaimRequest = {
    root: directory,
    poolKey: key,
    configHash: configHash(key, input.config),
    jobKey: input.jobKey,
    claimMarginSeconds: claimMargin,
    nowMs: started,
  };
  const claimed = claim(request);
  const claimMs = now() - started;
  if (claimed === undefined) return { kind: 'cold', reason: 'no ready task', claimMs };
  return { kind: 'warm', entry: claimed.entry, path: claimed.path, claimMs };
}
