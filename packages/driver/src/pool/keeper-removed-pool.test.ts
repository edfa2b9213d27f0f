import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDriverConfig } from '@gitlab-fargate/config';
import { mockClient } from 'aws-sdk-client-mock';
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

const KEY = '0123456789abcdef';
const HASH = 'fedcba9876543210';
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const arnOf = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${String(n).padStart(32, '0')}`;
const entry = (n: number): PoolEntry => ({
  version: 1, pool: 'old', poolKey: KEY, configHash: HASH, cluster: 'ci', fillId: `f${n}`, taskArn: arnOf(n), port: 22, username: 'root',
  privateKey: 'K', publicKey: 'P', launchedAt: new Date().toISOString(), idleDeadline: Math.floor(Date.now() / 1000) + 3600 + n,
});

describe('the keeper retires a pool removed from the configuration', () => {
  it('never stops a task a job claims while the removed pool is being stopped, and keeps its entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-keeper-removed-'));
    const root = join(dir, 'pool');
    const { config } = parseDriverConfig(
      `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n[PoolSettings]\nDirectory = "${root}"\n[[Pool]]\nName = "new"\nIdleCount = 0\n`,
    );
    ensurePoolDirectory(root, 'old');
    for (const n of [1, 2, 3]) writeEntry(root, entry(n), 'ready');
    const clients = createAwsClients('us-east-1');
    const ecs = mockClient(clients.ecs as ECSClient);
    const stopped: string[] = [];
    const claimed: string[] = [];
    ecs.on(StopTaskCommand).callsFake((input: { task: string }) => {
      // A job still running prepare under the old configuration (pool "old" listed) claims during the first stop.
      if (stopped.length === 0) {
        const taken = claim({ root, pools: ['old'], poolKey: KEY, configHash: HASH, jobKey: 'job-1', claimMarginSeconds: 120, nowMs: Date.now() });
        if (taken !== undefined) claimed.push(taken.path);
      }
      stopped.push(input.task);
      return {};
    });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const running = (taskArn: string) => ({ taskArn, desiredStatus: 'RUNNING', lastStatus: 'RUNNING', tags: [] });
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: input.tasks.map(running) }));
    const keeper = new PoolKeeper({
      config, root, env: readJobEnvironment({}), managerId: 'host-test', clients, transport: sshTransport,
      log: createLogger({ sink: { write: () => {} } }), signal: new AbortController().signal, sleep, now: Date.now,
      metrics: new PrometheusRegistry(),
    });
    try {
      await keeper.cycle();
      expect(stopped.length + claimed.length).toBe(3);
      for (const path of claimed) {
        expect(existsSync(path), `claimed entry ${path} was removed`).toBe(true);
        expect(stopped).not.toContain(arnOf(Number(/0*(\d+)\.job-1\.json$/.exec(path)![1])));
      }
      // Whatever stays claimed keeps the folder; a later cycle removes it once empty.
      expect(existsSync(join(root, 'old'))).toBe(claimed.length > 0);
    } finally {
      ecs.restore();
    }
  });
});
