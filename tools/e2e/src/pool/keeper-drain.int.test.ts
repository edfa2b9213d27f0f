import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, StopTaskCommand, TagResourceCommand, type Task } from '@aws-sdk/client-ecs';
import { loadDriverConfig } from '@gitlab-fargate/config';
import { DRAIN_STARTED_TAG, claimPoolEntry, listPoolEntries } from '@gitlab-fargate/driver';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { waitForNothingLeft } from '../index.js';

// The keeper as its manager task runs it: a process (`pool keep`) stopped by a signal, against the ECS emulator and
// the real ci-coordinator image, its metrics scraped over HTTP.
let stack: LocalStack;
useLocalStack((started) => {
  stack = started;
});

const MANAGER = 'pool-drain-manager';
const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function writeConfig(idleCount: number, metricsPort: number): Promise<string> {
  const extraTables = `[PoolSettings]\nReconcileInterval = 1\nMetricsPort = ${metricsPort}\n[[Pool]]\nName = "warm"\nIdleCount = ${idleCount}\nMaxIdle = 5\n`;
  await stack.rewriteDriverConfig({ extraTables });
  return (await loadDriverConfig(stack.driverConfigPath)).config.poolDefaults.directory!;
}

function startKeeper(managerId = MANAGER): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(stack.driver.executable, [...stack.driver.leadingArgs, 'pool', 'keep', '--config', stack.driverConfigPath], {
    env: { ...stack.env, GITLAB_FARGATE_MANAGER_ID: managerId },
    stdio: 'ignore',
  });
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function scrape(port: number): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}

const readyArns = (root: string) => listPoolEntries(root, 'warm').filter((e) => e.state === 'ready').map((e) => e.entry.taskArn!);

async function describeArns(arns: readonly string[]): Promise<Task[]> {
  const out = await stack.ecs.send(new DescribeTasksCommand({ cluster: stack.cluster, tasks: [...arns] }));
  return out.tasks ?? [];
}

/** A test that passed left nothing running; one that failed must not fail the next one too. */
afterEach(async () => {
  const config = (await loadDriverConfig(stack.driverConfigPath)).config;
  rmSync(config.poolDefaults.directory!, { recursive: true, force: true });
  const { taskArns = [] } = await stack.ecs.send(new ListTasksCommand({ cluster: stack.cluster, desiredStatus: 'RUNNING' }));
  for (const task of taskArns) await stack.ecs.send(new StopTaskCommand({ cluster: stack.cluster, task }));
  expect(await waitForNothingLeft(stack, 30_000)).toEqual(nothingLeft);
});

describe('pool keep stopped by its manager task (emulator)', () => {
  it('follows a TOML change, reports fills and claims, and on SIGTERM stops its idle tasks but not a claimed one', async () => {
    const port = await freePort();
    const root = await writeConfig(1, port);
    const keeper = startKeeper();
    await until(async () => readyArns(root).length === 1 && (await scrape(port)).includes('gitlab_fargate_pool_tasks{pool="warm",state="ready"} 1'));
    // The runner-manager image re-renders the TOML in place: the running keeper follows it.
    await writeConfig(2, port);
    await until(async () => readyArns(root).length === 2);
    // A job's prepare claims one, with the claim path prepare runs (one rename, nothing else recorded).
    const [first] = listPoolEntries(root, 'warm').filter((e) => e.state === 'ready');
    const claimed = claimPoolEntry({ root, pools: ['warm'], poolKey: first!.entry.poolKey, configHash: first!.entry.configHash, jobKey: 'job-1', claimMarginSeconds: 120, nowMs: Date.now() });
    expect(claimed).toBeDefined();
    // The claim is counted once, and the claimed task replaced: three fills in all.
    await until(async () => {
      const text = await scrape(port);
      return /^gitlab_fargate_pool_ready_to_claim_seconds_count\{pool="warm"\} 1$/m.test(text) && text.includes('gitlab_fargate_pool_fills_total{pool="warm",outcome="ok"} 3\n');
    });
    expect(await scrape(port)).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(readyArns(root)).toHaveLength(2);
    const idle = readyArns(root);
    keeper.child.kill('SIGTERM');
    expect(await keeper.exited).toBe(0);
    expect(listPoolEntries(root, 'warm').map((e) => e.state)).toEqual(['claimed']);
    expect((await describeArns(idle)).map((t) => t.desiredStatus)).toEqual(['STOPPED', 'STOPPED']);
    expect((await describeArns([claimed!.entry.taskArn!]))[0]?.desiredStatus).toBe('RUNNING');
    // The job's cleanup stops its own task.
    await stack.ecs.send(new StopTaskCommand({ cluster: stack.cluster, task: claimed!.entry.taskArn! }));
  });

  it('after a SIGKILL, the next keeper takes over its ready tasks and drains them on SIGQUIT', async () => {
    const root = await writeConfig(1, await freePort());
    const killed = startKeeper();
    await until(async () => readyArns(root).length === 1);
    killed.child.kill('SIGKILL');
    await killed.exited;
    const [left] = readyArns(root);
    const next = startKeeper();
    // Its first cycle keeps the task (still valid) instead of filling another: the metrics say one ready, one fill.
    await until(async () => (await scrape(await metricsPortOf())).includes('gitlab_fargate_pool_tasks{pool="warm",state="ready"} 1'));
    expect(readyArns(root)).toEqual([left]);
    next.child.kill('SIGQUIT');
    expect(await next.exited).toBe(0);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await describeArns([left!]))[0]?.desiredStatus).toBe('STOPPED');
  });
});

describe('pool keep whose manager the controller drains (emulator)', () => {
  it('stops its idle tasks and exits 0 once its manager task carries the drain tag', async () => {
    // A task of the cluster stands in for the manager task (the keeper only reads its tags).
    const { config } = await loadDriverConfig(stack.driverConfigPath);
    const run = await stack.ecs.send(new RunTaskCommand({
      cluster: stack.cluster,
      taskDefinition: stack.taskDefinition,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: [...config.fargate.subnets], assignPublicIp: 'DISABLED' } },
    }));
    const managerArn = run.tasks![0]!.taskArn!;
    const root = await writeConfig(1, await freePort());
    const keeper = startKeeper(managerArn.slice(managerArn.lastIndexOf('/') + 1));
    await until(async () => readyArns(root).length === 1);
    const idle = readyArns(root);
    const drainTag = { key: DRAIN_STARTED_TAG, value: new Date().toISOString() };
    await stack.ecs.send(new TagResourceCommand({ resourceArn: managerArn, tags: [drainTag] }));
    // No signal: the keeper sees the tag at its next cycle.
    expect(await keeper.exited).toBe(0);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await describeArns(idle)).map((t) => t.desiredStatus)).toEqual(['STOPPED']);
  });
});

async function metricsPortOf(): Promise<number> {
  return (await loadDriverConfig(stack.driverConfigPath)).config.poolDefaults.metricsPort!;
}

async function until(check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pool');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
