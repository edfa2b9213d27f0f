import type { DriverConfig } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';
import type { JobEnvironment } from '../job/environment.js';
import { planLaunch } from '../job/plan.js';
import { configHash, poolKey } from './pool-key.js';

/** What the pool tasks' plan is computed from: the driver TOML and the runner's identity. */
export interface PoolPlanSource {
  readonly config: DriverConfig;
  readonly env: JobEnvironment;
}

/**
 * The RunTask the keeper's tasks are planned with, up to their key, tags and deadline: from the driver TOML alone
 * (no command-line flag, no job override). Apart from `fill.ts` (the keeper's RunTask), so that prepare's claim
 * loads neither the AWS SDK nor ssh2.
 */
export function poolTaskPlan(source: PoolPlanSource): LaunchPlan {
  return planLaunch(source.config, source.env, {}, {}, '', 'keys');
}

/** The pool key and config hash the keeper's tasks get now (and a job's plan must give to claim one). */
export function currentKeys(source: PoolPlanSource): { poolKey: string; configHash: string } {
  const key = poolKey(poolTaskPlan(source));
  return { poolKey: key, configHash: configHash(key, source.config) };
}
