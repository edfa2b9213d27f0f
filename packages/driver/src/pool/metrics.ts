import { type Server, createServer } from 'node:http';

/**
 * What the keeper reports. The one seam for metrics: today a small Prometheus text exposition of its own
 * ({@link PrometheusRegistry}); prom-client can replace it behind this interface.
 */
export interface PoolMetrics {
  /** Entries per pool and state, after a cycle. */
  setCounts(pool: string, counts: Readonly<Record<'ready' | 'pending' | 'claimed' | 'draining', number>>): void;
  /** A task that became ready (`ok`) or whose fill failed. */
  fill(pool: string, outcome: 'ok' | 'failed'): void;
  /** A ready task retired: idle deadline or MaxAge, config drift, surplus, or found stopped (Spot, crash). */
  expiry(pool: string, reason: 'deadline' | 'drift' | 'surplus' | 'stopped'): void;
  /** Seconds from RunTask to SSH ready. */
  fillSeconds(pool: string, seconds: number): void;
  /** Seconds one claim took (readdir + rename), as prepare measures it. */
  claimSeconds(pool: string, seconds: number): void;
}

/** A sink that drops everything (no `MetricsPort`). */
export const NO_METRICS: PoolMetrics = { setCounts() {}, fill() {}, expiry() {}, fillSeconds() {}, claimSeconds() {} };

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly series: Map<string, { labels: Labels; value: number; buckets?: number[]; sum?: number; count?: number }>;
}

/** Seconds; fills take 20-70 s on Fargate, claims well under one. */
const BUCKETS = [0.001, 0.01, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/**
 * Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/): `# HELP`
 * and `# TYPE` per family, one `name{labels} value` line per series, label values escaped (`\\`, `"`, newline),
 * histograms as cumulative `_bucket{le=…}` lines ending in `+Inf`, then `_sum` and `_count`.
 */
export class PrometheusRegistry implements PoolMetrics {
  private readonly families = new Map<string, Family>([
    ['gitlab_fargate_pool_tasks', { help: 'Pool entries by pool and state.', type: 'gauge', series: new Map() }],
    ['gitlab_fargate_pool_fills_total', { help: 'Pool tasks started, by outcome.', type: 'counter', series: new Map() }],
    ['gitlab_fargate_pool_expiries_total', { help: 'Idle pool tasks retired, by reason.', type: 'counter', series: new Map() }],
    ['gitlab_fargate_pool_fill_seconds', { help: 'Seconds from RunTask to SSH ready.', type: 'histogram', series: new Map() }],
    ['gitlab_fargate_pool_claim_seconds', { help: 'Seconds one warm claim took.', type: 'histogram', series: new Map() }],
  ]);

  setCounts(pool: string, counts: Readonly<Record<string, number>>): void {
    for (const [state, value] of Object.entries(counts)) this.set('gitlab_fargate_pool_tasks', { pool, state }, value);
  }

  fill(pool: string, outcome: 'ok' | 'failed'): void {
    this.add('gitlab_fargate_pool_fills_total', { pool, outcome });
  }

  expiry(pool: string, reason: string): void {
    this.add('gitlab_fargate_pool_expiries_total', { pool, reason });
  }

  fillSeconds(pool: string, seconds: number): void {
    this.observe('gitlab_fargate_pool_fill_seconds', { pool }, seconds);
  }

  claimSeconds(pool: string, seconds: number): void {
    this.observe('gitlab_fargate_pool_claim_seconds', { pool }, seconds);
  }

  /** The whole registry in the text format. */
  expose(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const s of family.series.values()) {
        if (family.type !== 'histogram') lines.push(`${name}${labelText(s.labels)} ${numberText(s.value)}`);
        else lines.push(...histogramLines(name, s.labels, s.buckets ?? [], s.sum ?? 0, s.count ?? 0));
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private series(name: string, labels: Labels) {
    const family = this.families.get(name)!;
    const key = JSON.stringify(labels);
    let s = family.series.get(key);
    if (s === undefined) {
      s = { labels, value: 0, ...(family.type === 'histogram' ? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 } : {}) };
      family.series.set(key, s);
    }
    return s;
  }

  private set(name: string, labels: Labels, value: number): void {
    this.series(name, labels).value = value;
  }

  private add(name: string, labels: Labels): void {
    this.series(name, labels).value += 1;
  }

  private observe(name: string, labels: Labels, value: number): void {
    const s = this.series(name, labels);
    BUCKETS.forEach((bound, i) => {
      if (value <= bound) s.buckets![i]! += 1;
    });
    s.sum! += value;
    s.count! += 1;
  }
}

function histogramLines(name: string, labels: Labels, buckets: readonly number[], sum: number, count: number): string[] {
  const lines = BUCKETS.map((bound, i) => `${name}_bucket${labelText({ ...labels, le: numberText(bound) })} ${buckets[i]}`);
  lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
  lines.push(`${name}_sum${labelText(labels)} ${numberText(sum)}`, `${name}_count${labelText(labels)} ${count}`);
  return lines;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

/** Serves `GET /metrics` on `port` (0: any free port). @returns the server, listening */
export async function serveMetrics(registry: PrometheusRegistry, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(registry.expose());
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
