import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PrometheusRegistry, serveMetrics } from './metrics.js';

/** GETs the real endpoint, as Prometheus would. */
async function scrape(registry: PrometheusRegistry, path = '/metrics'): Promise<{ status: number; type: string | null; text: string }> {
  const server = await serveMetrics(registry, 0, '127.0.0.1');
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  } finally {
    server.close();
  }
}

describe('the keeper metrics (prom-client) on its HTTP endpoint', () => {
  it('serves the pool gauges, counters and histograms in the Prometheus text format', async () => {
    const r = new PrometheusRegistry();
    r.setCounts('bus"y\\x\n', { ready: 2, pending: 1, claimed: 0, draining: 0 });
    r.fill('default', 'ok');
    r.fill('default', 'ok');
    r.expiry('default', 'drift');
    r.drain('default', 'shutdown');
    r.drain('default', 'shutdown');
    r.drain('default', 'shutdown');
    r.fillSeconds('default', 42);
    r.claimed('default', 3);
    r.claimed('default', 100);
    const { status, type, text } = await scrape(r);
    expect(status).toBe(200);
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# HELP gitlab_fargate_pool_tasks Pool entries by pool and state.\n# TYPE gitlab_fargate_pool_tasks gauge\n');
    // Label values escaped as the format says: backslash, double quote, newline.
    expect(text).toContain('gitlab_fargate_pool_tasks{pool="bus\\"y\\\\x\\n",state="ready"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_tasks{pool="bus\\"y\\\\x\\n",state="pending"} 1\n');
    expect(text).toContain('# TYPE gitlab_fargate_pool_fills_total counter\n');
    expect(text).toContain('gitlab_fargate_pool_fills_total{pool="default",outcome="ok"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_expiries_total{pool="default",reason="drift"} 1\n');
    expect(text).toContain('gitlab_fargate_pool_drains_total{pool="default",reason="shutdown"} 3\n');
    expect(text).toContain('gitlab_fargate_pool_fill_seconds_bucket{le="30",pool="default"} 0\n');
    expect(text).toContain('gitlab_fargate_pool_fill_seconds_bucket{le="45",pool="default"} 1\n');
    expect(text).toContain('# TYPE gitlab_fargate_pool_ready_to_claim_seconds histogram\n');
    expect(text).toContain('gitlab_fargate_pool_ready_to_claim_seconds_bucket{le="1",pool="default"} 0\n');
    expect(text).toContain('gitlab_fargate_pool_ready_to_claim_seconds_bucket{le="5",pool="default"} 1\n');
    expect(text).toContain('gitlab_fargate_pool_ready_to_claim_seconds_bucket{le="120",pool="default"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_ready_to_claim_seconds_bucket{le="+Inf",pool="default"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_ready_to_claim_seconds_sum{pool="default"} 103\n');
    expect(text).toContain('gitlab_fargate_pool_ready_to_claim_seconds_count{pool="default"} 2\n');
  });

  it("includes prom-client's default process metrics, and answers 404 elsewhere", async () => {
    const r = new PrometheusRegistry();
    const { text } = await scrape(r);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect((await scrape(r, '/other')).status).toBe(404);
  });

  it('keeps two registries apart (never the global one), so two keepers in one process do not clash', async () => {
    const a = new PrometheusRegistry();
    const b = new PrometheusRegistry();
    a.fill('p', 'failed');
    expect(await a.expose()).toContain('gitlab_fargate_pool_fills_total{pool="p",outcome="failed"} 1\n');
    expect(await b.expose()).not.toContain('gitlab_fargate_pool_fills_total{');
  });

  it('refuses a port it cannot bind with a message naming it', async () => {
    const first = await serveMetrics(new PrometheusRegistry(), 0, '127.0.0.1');
    try {
      const { port } = first.address() as AddressInfo;
      await expect(serveMetrics(new PrometheusRegistry(), port, '127.0.0.1')).rejects.toThrow(`cannot serve the pool metrics on 127.0.0.1:${port}`);
    } finally {
      first.close();
    }
  });
});
