import type { PoolSettings } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { poolTarget } from './policy.js';

const pool: PoolSettings = {
  name: 'default',
  idleCount: 1,
  idleTime: 1200,
  maxIdle: 4,
  maxAge: 3600,
  policies: [
    { periods: ['* 8-17 * * mon-fri'], timezone: 'Europe/Berlin', idleCount: 3, idleTime: 600 },
    { periods: ['* 12 * * *'], timezone: 'America/New_York', idleCount: 9 },
  ],
};

describe('poolTarget', () => {
  it("uses the pool's own values when no policy matches", () => {
    // Sunday 2026-12-06 10:00 UTC: a weekend in Berlin, 05:00 in New York.
    expect(poolTarget(pool, Date.parse('2026-12-06T10:00:00Z'))).toEqual({ idleCount: 1, idleTime: 1200 });
  });

  it('applies a policy in its own time zone', () => {
    // Thursday 07:00 UTC is 08:00 in Berlin (in), 06:59 UTC is 07:59 (out).
    expect(poolTarget(pool, Date.parse('2026-12-03T07:00:00Z'))).toEqual({ idleCount: 3, idleTime: 600, policy: 0 });
    expect(poolTarget(pool, Date.parse('2026-12-03T06:59:59Z'))).toEqual({ idleCount: 1, idleTime: 1200 });
  });

  it('lets the last matching policy win, clamped to MaxIdle, its IdleTime defaulting to the pool\'s', () => {
    // Thursday 17:30 UTC = 18:30 Berlin (out of the first), 12:30 New York (the second).
    expect(poolTarget(pool, Date.parse('2026-12-03T17:30:00Z'))).toEqual({ idleCount: 4, idleTime: 1200, policy: 1 });
    // Thursday 16:30 UTC: 17:30 Berlin and 11:30 New York: only the first.
    expect(poolTarget(pool, Date.parse('2026-12-03T16:30:00Z'))).toMatchObject({ policy: 0 });
    // Both match at 17:xx UTC on a summer weekday (19:xx Berlin is out; use a pool where both match).
    const both = { ...pool, policies: [pool.policies[0]!, { ...pool.policies[1]!, periods: ['* * * * *'] }] };
    expect(poolTarget(both, Date.parse('2026-12-03T09:00:00Z'))).toMatchObject({ policy: 1 });
  });

  it('never gives an idle time beyond MaxAge', () => {
    expect(poolTarget({ ...pool, maxAge: 300, policies: [] }, 0).idleTime).toBe(300);
  });
});
