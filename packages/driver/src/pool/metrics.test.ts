import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PrometheusRegistry, serveMetrics } from './metrics.js';

describe('the keeper metrics in the Prometheus text format', () => {
  it('writes HELP and TYPE per family, escaped labels, and cumulative histogram buckets ending in +Inf', () => {
    const r = new PrometheusRegistry();
    r.setCounts('bus"y\\x\n', { ready: 2, pending: 1, claimed: 0, draining: 0 });
    r.fill('default', 'ok');
    r.fill('default', 'ok');
    r.expiry('default', 'drift');
    r.claimSeconds('default', 0.25);
    r.claimSeconds('default', 0.5);
    const text = r.expose();
    expect(text).toContain('# HELP gitlab_fargate_pool_tasks Pool entries by pool and state.\n# TYPE gitlab_fargate_pool_tasks gauge\n');
    expect(text).toContain('gitlab_fargate_pool_tasks{pool="bus\\"y\\\\x\\n",state="ready"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_fills_total{pool="default",outcome="ok"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_expiries_total{pool="default",reason="drift"} 1\n');
    expect(text).toContain('gitlab_fargate_pool_claim_seconds_bucket{pool="default",le="0.1"} 0\n');
    expect(text).toContain('gitlab_fargate_pool_claim_seconds_bucket{pool="default",le="0.25"} 1\n');
    expect(text).toContain('gitlab_fargate_pool_claim_seconds_bucket{pool="default",le="0.5"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_claim_seconds_bucket{pool="default",le="+Inf"} 2\n');
    expect(text).toContain('gitlab_fargate_pool_claim_seconds_sum{pool="default"} 0.75\n');
    expect(text).toContain('gitlab_fargate_pool_claim_seconds_count{pool="default"} 2\n');
    // Every sample line is `name{labels} value`; every family is typed before its samples.
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{.*\})? [-+0-9.eInfNa]+)$/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('serves /metrics over HTTP with the format version in the content type', async () => {
    const r = new PrometheusRegistry();
    r.fill('p', 'failed');
    const server = await serveMetrics(r, 0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await response.text()).toContain('gitlab_fargate_pool_fills_total{pool="p",outcome="failed"} 1\n');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
