import type { DriverConfig } from '@gitlab-fargate/config';
import { listEntries } from './directory.js';

/** One pool in `pool status --json`. */
export interface PoolStatus {
  readonly name: string;
  /** Idle tasks a job can claim now. */
  readonly ready: number;
  /** Tasks starting (RunTask sent, SSH not ready yet). */
  readonly pending: number;
  /** Tasks a job took and has not cleaned up. */
  readonly claimed: number;
  /** Tasks being retired. */
  readonly draining: number;
  /** The soonest idle deadline among ready tasks (ISO), if any. */
  readonly nextDeadline?: string;
}

/** `{"pools":[…]}`: the counts of every configured pool, read from the directory (no AWS call). */
export function poolStatus(config: DriverConfig, root: string): { readonly pools: readonly PoolStatus[] } {
  return {
    pools: config.pools.map((pool) => {
      const entries = listEntries(root, pool.name);
      const count = (state: string) => entries.filter((e) => e.state === state).length;
      const deadlines = entries.filter((e) => e.state === 'ready').map((e) => e.entry.idleDeadline);
      return {
        name: pool.name,
        ready: count('ready'),
        pending: count('pending'),
        claimed: count('claimed'),
        draining: count('draining'),
        ...(deadlines.length > 0 ? { nextDeadline: new Date(Math.min(...deadlines) * 1000).toISOString() } : {}),
      };
    }),
  };
}

/** The same as text, one line per pool. */
export function formatPoolStatus(status: { readonly pools: readonly PoolStatus[] }): string {
  if (status.pools.length === 0) return 'no [[Pool]] is configured\n';
  return status.pools
    .map((p) => `${p.name}: ${p.ready} ready, ${p.pending} pending, ${p.claimed} claimed, ${p.draining} draining${p.nextDeadline ? ` (next idle deadline ${p.nextDeadline})` : ''}\n`)
    .join('');
}
