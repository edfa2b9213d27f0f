import { type PoolSettings, cronMatches, parseCron, zonedMinute } from '@gitlab-fargate/config';

/** What a pool should hold right now. */
export interface PoolTarget {
  /** Idle tasks wanted, already clamped to `MaxIdle`. */
  readonly idleCount: number;
  /** Idle lifetime (seconds from launch) of tasks started now: the policy's, else the pool's, at most `MaxAge`. */
  readonly idleTime: number;
  /** Index of the `[[Pool.Policy]]` that applies, or undefined for the pool's own values. */
  readonly policy?: number;
}

/**
 * Which values apply at `nowMs`: the last `[[Pool.Policy]]` one of whose periods matches the current minute in its
 * time zone (gitlab-runner's rule), else the pool's own `IdleCount`/`IdleTime`.
 */
export function poolTarget(pool: PoolSettings, nowMs: number): PoolTarget {
  for (let index = pool.policies.length - 1; index >= 0; index--) {
    const policy = pool.policies[index]!;
    const minute = zonedMinute(nowMs, policy.timezone);
    if (policy.periods.some((period) => cronMatches(parseCron(period), minute))) {
      const idleTime = Math.min(policy.idleTime ?? pool.idleTime, pool.maxAge);
      return { idleCount: Math.min(policy.idleCount, pool.maxIdle), idleTime, policy: index };
    }
  }
  return { idleCount: Math.min(pool.idleCount, pool.maxIdle), idleTime: Math.min(pool.idleTime, pool.maxAge) };
}
