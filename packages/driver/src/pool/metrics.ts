import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EntryState } from './entry.js';

/** Why the keeper retired a ready task while it keeps running. */
export type ExpiryReason = 'deadline' | 'drift' | 'surplus' | 'stopped';

/** Why the keeper stopped idle tasks for good: it is shutting down (SIGTERM), or their pool left the configuration. */
export type DrainReason = 'shutdown' | 'removed';

/** What the keeper reports (prom-client behind {@link PrometheusRegistry}, or {@link NO_METRICS}). */
export interface PoolMetrics {
  /** Entries per pool and state, after a cycle. */
  setCounts(pool: string, counts: Readonly<Record<EntryState, number>>): void;
  /** A task that became ready (`ok`) or whose fill failed. */
  fill(pool: string, outcome: 'ok' | 'failed'): void;
  /** A ready task retired: idle deadline or MaxAge, config drift, surplus, or found stopped (Spot, crash). */
  expiry(pool: string, reason: ExpiryReason): void;
  /** An idle task stopped because the keeper stops (SIGTERM) or its pool was removed. */
  drain(pool: string, reason: DrainReason): void;
  /** Seconds from RunTask to SSH ready. */
  fillSeconds(pool: string, seconds: number): void;
  /**
   * A claim the keeper found in `claimed/`: seconds from the task's readiness to the job's claim (the claimed file's
   * rename time, which prepare's one `rename` sets; prepare records nothing else).
   */
  claimed(pool: string, readyToClaimSeconds: number): void;
}

/** A sink that drops everything (no `MetricsPort`). */
export const NO_METRICS: PoolMetrics = { setCounts() {}, fill() {}, expiry() {}, drain() {}, fillSeconds() {}, claimed() {} };

/** Fills take 20-70 s on Fargate (up to TaskStart + SSHReady); a warm task may wait up to a day for its job. */
const FILL_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600];
const CLAIM_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400, 86_400];

/**
 * The keeper's Prometheus metrics with prom-client, in a registry of its own (never prom-client's global one): the
 * pool gauges, counters and histograms below plus prom-client's default process metrics (CPU, memory, event loop
 * lag, open file descriptors, `process_start_time_seconds`, ...).
 */
export class PrometheusRegistry implements PoolMetrics {
  readonly registry = new Registry();
  private readonly tasks = new Gauge({ name: 'gitlab_fargate_pool_tasks', help: 'Pool entries by pool and state.', labelNames: ['pool', 'state'] as const, registers: [this.registry] });
  private readonly fills = new Counter({ name: 'gitlab_fargate_pool_fills_total', help: 'Pool tasks started, by outcome.', labelNames: ['pool', 'outcome'] as const, registers: [this.registry] });
  private readonly expiries = new Counter({ name: 'gitlab_fargate_pool_expiries_total', help: 'Idle pool tasks retired, by reason.', labelNames: ['pool', 'reason'] as const, registers: [this.registry] });
  private readonly drains = new Counter({
    name: 'gitlab_fargate_pool_drains_total',
    help: 'Idle pool tasks stopped because the keeper stopped or their pool was removed.',
    labelNames: ['pool', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly fillTime = new Histogram({ name: 'gitlab_fargate_pool_fill_seconds', help: 'Seconds from RunTask to SSH ready.', labelNames: ['pool'] as const, buckets: FILL_BUCKETS, registers: [this.registry] });
  private readonly claimTime = new Histogram({
    name: 'gitlab_fargate_pool_ready_to_claim_seconds',
    help: 'Seconds a pool task was ready before a job claimed it.',
    labelNames: ['pool'] as const,
    buckets: CLAIM_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setCounts(pool: string, counts: Readonly<Record<EntryState, number>>): void {
    for (const [state, value] of Object.entries(counts)) this.tasks.set({ pool, state }, value);
  }

  fill(pool: string, outcome: 'ok' | 'failed'): void {
    this.fills.inc({ pool, outcome });
  }

  expiry(pool: string, reason: ExpiryReason): void {
    this.expiries.inc({ pool, reason });
  }

  drain(pool: string, reason: DrainReason): void {
    this.drains.inc({ pool, reason });
  }

  fillSeconds(pool: string, seconds: number): void {
    this.fillTime.observe({ pool }, seconds);
  }

  claimed(pool: string, readyToClaimSeconds: number): void {
    this.claimTime.observe({ pool }, Math.max(0, readyToClaimSeconds));
  }

  /** The whole registry in the Prometheus text format. */
  expose(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * Serves `GET /metrics` on `port` (0: any free port) and `host`. @returns the server, listening
 * @throws when the port cannot be bound (in use, privileged), before the keeper starts any task
 */
export async function serveMetrics(metrics: PrometheusRegistry, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.expose().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.registry.contentType });
        response.end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`cannot collect the metrics: ${(error as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve the pool metrics on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve());
  });
  return server;
}
