import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDriverConfig } from '@gitlab-fargate/config';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../aws/clients.js';
import { readJobEnvironment } from '../job/environment.js';
import { createLogger } from '../log.js';
import { sleep } from '../sleep.js';
import { sshTransport } from '../ssh/connect.js';
import { claim, ensurePoolDirectory, writeEntry } from './directory.js';
import type { PoolEntry } from './entry.js';
import { PoolKeeper } from './keeper.js';
import { PrometheusRegistry } from './metrics.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (readyAt: Date): PoolEntry => ({
  version: 1, pool: 'warm', poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: 'f1',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/0123456789abcdef0123456789abcdef', port: 22, username: 'root',
  privateKey: 'K', publicKey: 'P', launchedAt: new Date(readyAt.getTime() - 30_000).toISOString(), readyAt: readyAt.toISOString(),
  idleDeadline: Math.floor(Date.now() / 1000) + 3600,
});

/** Polls the registry (the keeper reports from a file-system event, not from a call this test could await). */
async function claimCount(metrics: PrometheusRegistry): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await metrics.expose();
    const count = /^gitlab_fargate_pool_ready_to_claim_seconds_count\{pool="warm"\} (\d+)$/m.exec(text)?.[1];
    if (count !== undefined) return text;
    await sleep(20);
  }
  return undefined;
}

describe('the keeper reports claims from the claimed folder', () => {
  it('sees a claim when prepare renames the entry, without waiting for a cycle, with its ready-to-claim time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-keeper-claims-'));
    const root = join(dir, 'pool');
    const { config } = parseDriverConfig(
      `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n[PoolSettings]\nDirectory = "${root}"\n[[Pool]]\nName = "warm"\n`,
    );
    const metrics = new PrometheusRegistry();
    const keeper = new PoolKeeper({
      config, root, env: readJobEnvironment({}), managerId: 'host-test', clients: createAwsClients('us-east-1'), transport: sshTransport,
      log: createLogger({ sink: { write: () => {} } }), signal: new AbortController().signal, sleep, now: Date.now, metrics,
    });
    ensurePoolDirectory(root, 'warm');
    const readyAt = new Date(Date.now() - 5_000);
    writeEntry(root, entry(readyAt), 'ready');
    const unwatch = keeper.watchClaims();
    try {
      // A job's prepare claims it (one rename). No keeper cycle runs here: a job shorter than the reconcile interval
      // would have its entry removed by its cleanup before the cycle saw it.
      const claimed = claim({ root, pools: ['warm'], poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', jobKey: 'job-1', claimMarginSeconds: 120, nowMs: Date.now() });
      expect(claimed).toBeDefined();
      const text = await claimCount(metrics);
      expect(text, 'the claim was never reported').toBeDefined();
      expect(text).toMatch(/^gitlab_fargate_pool_ready_to_claim_seconds_count\{pool="warm"\} 1$/m);
      const seconds = Number(/^gitlab_fargate_pool_ready_to_claim_seconds_sum\{pool="warm"\} (\S+)$/m.exec(text!)![1]);
      expect(seconds).toBeGreaterThanOrEqual(4);
      expect(seconds).toBeLessThan(60);
    } finally {
      unwatch();
    }
  });
});
