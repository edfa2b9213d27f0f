import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DriverConfig, parseDriverConfig } from '@gitlab-fargate/config';
import { afterEach, describe, expect, it } from 'vitest';
import { readJobEnvironment } from '../job/environment.js';
import { planLaunch } from '../job/plan.js';
import { claimWarmTask } from './claim-warm.js';
import type { KeeperContext } from './context.js';
import { ensurePoolDirectory, writeEntry } from './directory.js';
import { currentKeys } from './task-keys.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function config(extra = ''): DriverConfig {
  const text = `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n${extra}[TaskMetadata]\nDirectory = "${dir}"\n[[Pool]]\nName = "default"\n`;
  return parseDriverConfig(text, { file: 'f.toml' }).config;
}

const env = readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc123xyz', CUSTOM_ENV_CI_JOB_ID: '42', CUSTOM_ENV_CI_PROJECT_PATH: 'group/project' });
const jobPlan = (c: DriverConfig, spot?: boolean) => planLaunch(c, env, {}, spot === undefined ? {} : { spot }, 'ssh-ed25519 AAAA job', 'seed');

/** A ready entry as the keeper of `c` writes it (keys from the keeper's own plan). */
function keeperEntry(c: DriverConfig, deadline = Math.floor(Date.now() / 1000) + 1200): void {
  const keys = currentKeys({ config: c, env: readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc123xyz' }) } as KeeperContext);
  const root = c.poolDefaults.directory!;
  ensurePoolDirectory(root, 'default');
  writeEntry(root, {
    version: 1, pool: 'default', ...keys, cluster: 'ci', fillId: 'f1', taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/abc', port: 22,
    username: 'root', privateKey: 'K', publicKey: 'P', launchedAt: new Date().toISOString(), idleDeadline: deadline,
  }, 'ready');
}

describe('claimWarmTask', () => {
  it("gives a job the keeper's task: the job's plan and the keeper's give one pool key and config hash", () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-claim-'));
    const c = config();
    keeperEntry(c);
    const claimed = claimWarmTask({ config: c, env, plan: jobPlan(c), jobKey: 'abc123xyz-0011223344556677' });
    expect(claimed).toMatchObject({ kind: 'warm', entry: { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/abc' } });
    expect(claimWarmTask({ config: c, env, plan: jobPlan(c), jobKey: 'other' })).toMatchObject({ kind: 'cold', reason: 'no ready task' });
  });

  it('sends a job with another RunTask (Spot asked for, an image:) or under another configuration to the cold path', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-claim-'));
    const c = config();
    keeperEntry(c);
    expect(claimWarmTask({ config: c, env, plan: jobPlan(c, true), jobKey: 'j1' })).toMatchObject({ kind: 'cold', reason: 'no matching pool', pools: ['default'] });
    expect(claimWarmTask({ config: c, env, plan: jobPlan(c), jobKey: 'j1', imageHash: 'ci-job-0123456789abcdef' })).toMatchObject({ kind: 'cold', reason: 'no matching pool' });
    const tagged = config('[Fargate.Tags]\nteam = "ci"\n');
    expect(claimWarmTask({ config: tagged, env, plan: jobPlan(tagged), jobKey: 'j1' })).toMatchObject({ kind: 'cold', reason: 'no ready task' });
    expect(claimWarmTask({ config: c, env, plan: jobPlan(c), jobKey: 'j1' }).kind).toBe('warm');
  });

  it('never takes a task within the claim margin of its idle deadline, and says when there is no pool', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-claim-'));
    const c = config();
    keeperEntry(c, Math.floor(Date.now() / 1000) + 100);
    expect(claimWarmTask({ config: c, env, plan: jobPlan(c), jobKey: 'j1' })).toMatchObject({ kind: 'cold', reason: 'no ready task' });
    const none = { ...c, pools: [] };
    expect(claimWarmTask({ config: none, env, plan: jobPlan(none), jobKey: 'j1' })).toEqual({ kind: 'cold', reason: 'no pool', claimMs: 0, pools: [] });
  });

  it('gives back a damaged entry it took (removed, a warning) and sends the job to the cold path', () => {
    dir = mkdtempSync(join(tmpdir(), 'gf-claim-'));
    const c = config();
    keeperEntry(c);
    const readyDir = join(c.poolDefaults.directory!, 'default', 'ready');
    const [name] = readdirSync(readyDir);
    writeFileSync(join(readyDir, name!), '{"version": 1, "pool": ');
    const warnings: string[] = [];
    const claimed = claimWarmTask({ config: c, env, plan: jobPlan(c), jobKey: 'j1', log: { warn: (m: string) => warnings.push(m) } });
    expect(claimed).toMatchObject({ kind: 'cold', reason: 'damaged entry', pools: ['default'], detail: expect.stringContaining('is damaged') });
    expect(readdirSync(join(c.poolDefaults.directory!, 'default', 'claimed'))).toEqual([]);
    expect(existsSync(join(readyDir, name!))).toBe(false);
    expect(warnings.join('\n')).toMatch(/damaged.*gc stops its task/);
  });
});
