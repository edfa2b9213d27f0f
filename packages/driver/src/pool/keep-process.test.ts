import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, runCli } from '../../test/cli-process.js';
import { ensurePoolDirectory, writeEntry } from './directory.js';
import type { PoolEntry } from './entry.js';

/** A port free a moment ago (the keeper binds it itself). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Scrapes until the keeper answers (its server is up before its first cycle); undefined while it does not. */
async function scrape(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

const entry: PoolEntry = {
  version: 1, pool: 'warm', poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: 'f1',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/0123456789abcdef0123456789abcdef', port: 22, username: 'root',
  privateKey: 'K', publicKey: 'P', launchedAt: '2026-12-03T06:00:00.000Z', idleDeadline: 4_000_000_000,
};

/**
 * The runner-manager image runs the esbuild bundle, not dist/: prom-client (and its @opentelemetry/api import) must be
 * in it and work there. ECS is unreachable here (a closed port), so every cycle fails; the endpoint still answers.
 */
describe('pool keep from the runner-manager bundle', () => {
  let dir: string;
  let bundle: string;
  beforeAll(() => {
    bundle = buildBundle('single');
    dir = mkdtempSync(join(tmpdir(), 'gf-keep-bundle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves prom-client metrics, and on the image\'s stop signal drains its idle entries and exits 0', async () => {
    const port = await freePort();
    const root = join(dir, 'pool');
    writeFileSync(
      join(dir, 'fargate.toml'),
      '[Fargate]\nCluster = "ci"\nRegion = "us-east-1"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n' +
        `[Timeouts]\nStopTask = 2\n[PoolSettings]\nDirectory = "${root}"\nReconcileInterval = 1\nMetricsPort = ${port}\n` +
        '[[Pool]]\nName = "warm"\nIdleCount = 0\n',
    );
    ensurePoolDirectory(root, 'warm');
    writeEntry(root, entry, 'ready');
    let metrics: string | undefined;
    const run = await runCli(['pool', 'keep', '--config', join(dir, 'fargate.toml')], {
      entry: bundle,
      cwd: dir,
      env: { AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc123XYZ', GITLAB_FARGATE_MANAGER_ID: '0123456789abcdef0123456789abcdef' },
      onSpawn: (child) => {
        // The observable moment: the endpoint answers with the first cycle's gauges (published only after a cycle
        // that got through; here none does, so wait for the default metrics instead) and the cycle has run.
        const poll = async (): Promise<void> => {
          metrics = await scrape(port);
          if (metrics === undefined) return void setTimeout(() => void poll(), 50);
          child.kill('SIGQUIT');
        };
        void poll();
      },
    });
    expect(metrics).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(metrics).toMatch(/^# TYPE gitlab_fargate_pool_fills_total counter$/m);
    expect(run.stderr).toMatch(/stopping: /);
    expect(run).toMatchObject({ code: 0, signal: null });
    // ECS could not be asked to stop it: the entry waits in draining/ for the next keeper, never in ready/ for a job.
    expect(readdirSync(join(root, 'warm', 'ready'))).toEqual([]);
    expect(readdirSync(join(root, 'warm', 'draining'))).toHaveLength(1);
  }, 60_000);
});
