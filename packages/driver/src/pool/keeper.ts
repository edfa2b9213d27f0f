import { randomBytes } from 'node:crypto';
import { type FSWatcher, readdirSync, rmSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '@aws-sdk/client-ecs';
import { type DriverConfig, POOL_TAG_KEYS, type PoolSettings } from '@gitlab-fargate/config';
import { stopTask } from '../aws/launch.js';
import { describeTasksWithTags, listTaskArns, tagOf } from '../aws/task-listing.js';
import { secondsToMs } from '../duration.js';
import { messageOf } from '../errors.js';
import { TAG_KEYS, startedByFor } from '../job/plan.js';
import { DRAIN_STARTED_TAG } from '../managers/reconcile.js';
import type { KeeperContext } from './context.js';
import { ensurePoolDirectory, listEntries, moveEntry, poolRootExists, readEntry, removeEntry, stateDirectory } from './directory.js';
import type { StoredEntry } from './entry.js';
import type { DrainReason } from './metrics.js';
import { fillOne } from './fill.js';
import { poolTarget } from './policy.js';
import { currentKeys } from './task-keys.js';

/** What one cycle did, per pool (for logs and tests). */
export interface CycleReport {
  readonly lostDirectory: boolean;
  readonly pools: readonly { readonly name: string; readonly wanted: number; readonly filled: number; readonly retired: number }[];
  /** Tasks of this manager's pools that no entry names, stopped. */
  readonly collected: readonly string[];
}

/** The reconciler behind `pool keep`: one {@link cycle} per `[PoolSettings] ReconcileInterval`. */
export class PoolKeeper {
  private cycles = 0;
  private readonly instance = randomBytes(4).toString('hex');
  /** Claimed entries already reported; a claim older than this keeper was reported by the one before it. */
  private readonly seenClaims = new Set<string>();
  private readonly startedAtMs = Date.now();

  constructor(private ctx: KeeperContext) {}

  /** Takes a changed driver configuration (re-rendered in place) for the next cycle; the pool directory stays. */
  reconfigure(config: DriverConfig): void {
    this.ctx = { ...this.ctx, config };
  }

  /**
   * One pass: a lost directory is noted (gc then stops every pool task of this manager); per pool, entries left
   * pending by a killed keeper are cleaned, expired or drifted ones retired, stopped tasks dropped (one batched
   * DescribeTasks), then gc, then the top-up to the policy's IdleCount.
   */
  async cycle(): Promise<CycleReport> {
    const { ctx } = this;
    this.cycles += 1;
    const lostDirectory = !poolRootExists(ctx.root);
    if (lostDirectory) ctx.log.warn(`the pool directory ${ctx.root} is missing: stopping every pool task of manager ${ctx.managerId}`);
    for (const pool of ctx.config.pools) ensurePoolDirectory(ctx.root, pool.name);
    this.observeClaims();
    const retired = new Map<string, number>();
    for (const pool of ctx.config.pools) retired.set(pool.name, await this.tidy(pool));
    await this.retireRemovedPools();
    await this.checkHealth();
    const collected = await this.collectGarbage();
    const pools = [];
    for (const pool of ctx.config.pools) {
      const { wanted, filled } = await this.topUp(pool);
      pools.push({ name: pool.name, wanted, filled, retired: retired.get(pool.name) ?? 0 });
    }
    this.publishCounts();
    return { lostDirectory, pools, collected };
  }

  /** Pending leftovers and ready entries that must go: drained (stopped) and removed. @returns how many ready ones */
  private async tidy(pool: PoolSettings): Promise<number> {
    const { ctx } = this;
    const now = ctx.now();
    const keys = currentKeys(ctx);
    const target = poolTarget(pool, now);
    const entries = listEntries(ctx.root, pool.name);
    // Fills finish within their cycle: a pending entry seen here is a killed keeper's.
    for (const stale of entries.filter((e) => e.state === 'pending')) await this.stopAndRemove(stale, 'left pending by an earlier keeper');
    const ready = entries.filter((e) => e.state === 'ready').sort((a, b) => a.entry.idleDeadline - b.entry.idleDeadline);
    let kept = 0;
    let retired = 0;
    for (const stored of ready) {
      const reason = retireReason(stored, keys, now, pool, ctx.config.poolDefaults.claimMargin);
      const surplus = reason === undefined && kept >= target.idleCount;
      if (reason === undefined && !surplus) {
        kept += 1;
        continue;
      }
      const draining = moveEntry(stored, 'draining');
      if (draining === undefined) continue; // a job claimed it meanwhile
      ctx.metrics.expiry(pool.name, reason ?? 'surplus');
      retired += 1;
    }
    for (const draining of listEntries(ctx.root, pool.name).filter((e) => e.state === 'draining')) await this.stopAndRemove(draining, 'retired from the pool');
    return retired;
  }

  /**
   * A pool no longer in the config: its ready entries are renamed to `draining/` first (a job still running prepare
   * under the old configuration may claim one meanwhile: that task is the job's), then what moved, what was pending
   * and what was draining is stopped. The directory goes once nothing is left in it (claimed ones stay the jobs').
   */
  private async retireRemovedPools(): Promise<void> {
    const { ctx } = this;
    const configured = new Set(ctx.config.pools.map((p) => p.name));
    for (const name of readdirSync(ctx.root)) {
      if (name.startsWith('.') || configured.has(name)) continue;
      const idle = listEntries(ctx.root, name).flatMap((stored): StoredEntry[] => {
        if (stored.state !== 'ready') return stored.state === 'claimed' ? [] : [stored];
        const path = moveEntry(stored, 'draining');
        return path === undefined ? [] : [{ ...stored, state: 'draining', path }];
      });
      for (const stored of idle) await this.stopAndCount(stored, `of pool ${name}, no longer configured`, 'removed');
      if (listEntries(ctx.root, name).length === 0) rmSync(join(ctx.root, name), { recursive: true, force: true });
    }
  }

  /** One DescribeTasks per 100 entries: entries whose task stopped or is stopping (Spot, crash) are dropped. */
  private async checkHealth(): Promise<void> {
    const { ctx } = this;
    const watched = this.allEntries().filter((e) => e.entry.taskArn !== undefined && (e.state === 'ready' || e.state === 'claimed'));
    if (watched.length === 0) return;
    const tasks = await describeTasksWithTags(ctx.clients.ecs, ctx.config.fargate.cluster, watched.map((e) => e.entry.taskArn as string));
    const alive = new Set(tasks.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus !== 'STOPPED').map((t) => t.taskArn));
    for (const stored of watched) {
      if (alive.has(stored.entry.taskArn)) continue;
      ctx.log.info(`pool ${stored.entry.pool}: task ${stored.entry.taskArn} is stopping or gone; dropping its ${stored.state} entry`);
      if (stored.state === 'ready') ctx.metrics.expiry(stored.entry.pool, 'stopped');
      removeEntry(stored);
    }
  }

  /** Stops this manager's pool tasks that no entry names (a lost directory, a keeper killed after RunTask). */
  private async collectGarbage(): Promise<string[]> {
    const { ctx } = this;
    const { cluster } = ctx.config.fargate;
    const known = new Set(this.allEntries().map((e) => e.entry.taskArn));
    const arns = await listTaskArns(ctx.clients.ecs, cluster, startedByFor(ctx.env.runnerShortToken));
    const tasks = arns.length === 0 ? [] : await describeTasksWithTags(ctx.clients.ecs, cluster, arns);
    const orphans = tasks.filter((t) => isOurPoolTask(t, ctx.managerId) && !known.has(t.taskArn) && t.desiredStatus === 'RUNNING');
    const stopped: string[] = [];
    for (const task of orphans) {
      try {
        await stopTask(ctx.clients.ecs, { cluster, taskArn: task.taskArn!, reason: 'gitlab-fargate: pool task without an entry (gc)' }, { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep: ctx.sleep });
        stopped.push(task.taskArn!);
      } catch (error) {
        ctx.log.warn(`gc could not stop pool task ${task.taskArn}: ${messageOf(error)}`);
      }
    }
    if (stopped.length > 0) ctx.log.info(`gc stopped ${stopped.length} pool task(s) without an entry`, { tasks: stopped.join(' ') });
    return stopped;
  }

  /** Starts the missing idle tasks (all at once) and waits until each is ready or has failed. */
  private async topUp(pool: PoolSettings): Promise<{ wanted: number; filled: number }> {
    const { ctx } = this;
    const target = poolTarget(pool, ctx.now());
    const have = listEntries(ctx.root, pool.name).filter((e) => e.state === 'ready' || e.state === 'pending').length;
    const missing = Math.max(0, target.idleCount - have);
    if (missing === 0 || ctx.signal.aborted) return { wanted: target.idleCount, filled: 0 };
    const epoch = `${this.instance}-${this.cycles}`;
    const fills = Array.from({ length: missing }, (_, slot) => fillOne(ctx, { pool, slot, epoch, idleTime: target.idleTime }));
    const results = await Promise.all(fills);
    return { wanted: target.idleCount, filled: results.filter(Boolean).length };
  }

  /**
   * The keeper is stopping (SIGTERM: its manager task is being drained or replaced): every idle task of every pool
   * directory (ready, pending and draining entries) is renamed to `draining/` (a job that claims it first keeps it),
   * stopped and removed, all at once. Claimed tasks are the jobs'. An entry whose StopTask fails stays in `draining/`:
   * the next keeper stops it, and the task's own idle watchdog stops it at its deadline anyway.
   * @returns how many tasks were stopped
   */
  async drain(): Promise<number> {
    if (!poolRootExists(this.ctx.root)) return 0;
    const idle = this.allEntries().filter((e) => e.state !== 'claimed');
    const draining = idle.flatMap((stored) => {
      if (stored.state === 'draining') return [stored];
      const path = moveEntry(stored, 'draining');
      return path === undefined ? [] : [{ ...stored, state: 'draining' as const, path }];
    });
    const stopped = await Promise.all(draining.map((stored) => this.stopAndCount(stored, 'drained: its keeper is stopping', 'shutdown')));
    return stopped.filter(Boolean).length;
  }

  /**
   * Whether the manager controller marked this keeper's manager task for draining (`gitlab-fargate:drain-started`:
   * an old version, or one beyond the count). Its gitlab-runner takes no new job from then on, so idle tasks would
   * wait for nothing until the manager stops, possibly hours later. One DescribeTasks; false when the manager is not
   * an ECS task of this cluster (a host-… ID, another cluster) or ECS cannot say.
   */
  async managerDraining(): Promise<boolean> {
    const { ctx } = this;
    if (!ECS_TASK_ID.test(ctx.managerId)) return false;
    try {
      const [task] = await describeTasksWithTags(ctx.clients.ecs, ctx.config.fargate.cluster, [ctx.managerId]);
      return task !== undefined && tagOf(task, DRAIN_STARTED_TAG) !== undefined;
    } catch (error) {
      ctx.log.debug(`could not read the drain tag of manager ${ctx.managerId}: ${messageOf(error)}`);
      return false;
    }
  }

  /**
   * Watches every configured pool's `claimed/` folder (inotify), so that a claim is reported when prepare's rename
   * lands, even one whose job ends (and whose cleanup removes the entry) before the next cycle; each cycle still looks
   * too. Call again after {@link reconfigure}. @returns a function that stops watching
   */
  watchClaims(): () => void {
    const watchers: FSWatcher[] = [];
    for (const pool of this.ctx.config.pools) {
      ensurePoolDirectory(this.ctx.root, pool.name);
      const dir = stateDirectory(this.ctx.root, pool.name, 'claimed');
      const watcher = watch(dir, (_event, name) => {
        if (name !== null) this.observeClaim(join(dir, String(name)));
      });
      // The folder went (a removed pool's, a lost directory): the cycles still look.
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    }
    return () => watchers.forEach((watcher) => watcher.close());
  }

  /** Reports, once each, the claims prepare made since this keeper started: ready → claimed seconds. */
  private observeClaims(): void {
    const claimed = this.allEntries().filter((e) => e.state === 'claimed');
    const current = new Set(claimed.map((e) => e.path));
    for (const seen of this.seenClaims) if (!current.has(seen)) this.seenClaims.delete(seen);
    for (const { path } of claimed) this.observeClaim(path);
  }

  private observeClaim(path: string): void {
    if (this.seenClaims.has(path) || !path.endsWith('.json')) return;
    // The claim is prepare's rename, which sets the file's ctime: prepare needs to write nothing more.
    const claimedAtMs = statSync(path, { throwIfNoEntry: false })?.ctimeMs;
    if (claimedAtMs === undefined) return;
    this.seenClaims.add(path);
    let readyAt: string | undefined;
    let pool: string;
    try {
      ({ readyAt, pool } = readEntry(path));
    } catch {
      return;
    }
    if (claimedAtMs < this.startedAtMs || readyAt === undefined) return;
    this.ctx.metrics.claimed(pool, (claimedAtMs - Date.parse(readyAt)) / 1000);
  }

  private async stopAndCount(stored: StoredEntry, why: string, reason: DrainReason): Promise<boolean> {
    const stopped = await this.stopAndRemove(stored, why);
    if (stopped && stored.entry.taskArn !== undefined) this.ctx.metrics.drain(stored.entry.pool, reason);
    return stopped;
  }

  /** @returns whether the task is stopped (or never started) and its entry removed */
  private async stopAndRemove(stored: StoredEntry, why: string): Promise<boolean> {
    const { ctx } = this;
    const taskArn = stored.entry.taskArn;
    if (taskArn !== undefined) {
      try {
        await stopTask(ctx.clients.ecs, { cluster: stored.entry.cluster, taskArn, reason: `gitlab-fargate: pool task ${why}` }, { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask), sleep: ctx.sleep });
      } catch (error) {
        ctx.log.warn(`could not stop pool task ${taskArn} (${why}); a later keeper cycle or its idle deadline stops it: ${messageOf(error)}`);
        return false;
      }
    }
    removeEntry(stored);
    return true;
  }

  /** The entries of every pool directory, configured or not (a removed pool's claimed tasks are still jobs'). */
  private allEntries(): StoredEntry[] {
    return readdirSync(this.ctx.root)
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) => listEntries(this.ctx.root, name));
  }

  private publishCounts(): void {
    for (const pool of this.ctx.config.pools) {
      const counts = { ready: 0, pending: 0, claimed: 0, draining: 0 };
      for (const e of listEntries(this.ctx.root, pool.name)) counts[e.state] += 1;
      this.ctx.metrics.setCounts(pool.name, counts);
    }
  }
}

/** An ECS task ID (the last part of a task ARN), which a manager in ECS has as its ID. */
const ECS_TASK_ID = /^[0-9a-f]{32}$/;

/** Why a ready entry must go, or undefined to keep it. */
function retireReason(stored: StoredEntry, keys: { poolKey: string; configHash: string }, now: number, pool: PoolSettings, claimMargin: number): 'drift' | 'deadline' | undefined {
  const { entry } = stored;
  if (entry.poolKey !== keys.poolKey || entry.configHash !== keys.configHash) return 'drift';
  if (now / 1000 >= entry.idleDeadline - claimMargin) return 'deadline';
  if (now - Date.parse(entry.launchedAt) >= pool.maxAge * 1000) return 'deadline';
  return undefined;
}

/** A task the keeper of `managerId` started (pool tag set, manager tag this one). */
function isOurPoolTask(task: Task, managerId: string): boolean {
  return tagOf(task, POOL_TAG_KEYS.pool) !== undefined && tagOf(task, TAG_KEYS.manager) === managerId;
}
