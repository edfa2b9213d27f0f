import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DescribeTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { type DriverConfig, POOL_CLAIM_LOCK_DIR, POOL_IDLE_DEADLINE_VARIABLE, POOL_RUN_DIR, loadDriverConfig } from '@gitlab-fargate/config';
import { type CycleReport, type KeeperContext, NO_METRICS, PoolKeeper, claimPoolEntry, createLogger, listPoolEntries, poolStatus, readJobEnvironment, sshTransport } from '@gitlab-fargate/driver';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { waitForNothingLeft } from '../index.js';

// The warm-pool keeper (`pool keep`) against the ECS emulator and the real ci-coordinator image: the keeper runs
// in-process (one cycle at a time, with an injectable clock) except where a process must be killed.
let stack: LocalStack;
useLocalStack((started) => {
  stack = started;
});

const MANAGER = 'pool-test-manager';
const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };

const poolToml = (idleCount: number, extra = '') => `[[Pool]]\nName = "warm"\nIdleCount = ${idleCount}\nMaxIdle = 5\n${extra}`;

async function configWith(extraTables: string, fargateExtra?: string): Promise<DriverConfig> {
  await stack.rewriteDriverConfig({ extraTables, ...(fargateExtra !== undefined ? { fargateExtra } : {}) });
  return (await loadDriverConfig(stack.driverConfigPath)).config;
}

function keeper(config: DriverConfig, now: () => number = Date.now): PoolKeeper {
  const log = createLogger({ level: 'warn', sink: { write: () => {} }, progress: { write: () => {} } });
  const ctx: KeeperContext = {
    config,
    root: config.poolDefaults.directory!,
    env: readJobEnvironment(stack.env),
    managerId: MANAGER,
    clients: { ecs: stack.ecs, ec2: async () => Promise.reject(new Error('no EC2 in these tests')) },
    transport: sshTransport,
    log,
    signal: new AbortController().signal,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now,
    metrics: NO_METRICS,
  };
  return new PoolKeeper(ctx);
}

const ready = (config: DriverConfig) => listPoolEntries(config.poolDefaults.directory!, 'warm').filter((e) => e.state === 'ready');

async function describeArns(arns: readonly string[]): Promise<Task[]> {
  const out = await stack.ecs.send(new DescribeTasksCommand({ cluster: stack.cluster, tasks: [...arns], include: ['TAGS'] }));
  return out.tasks ?? [];
}

/** Drains the pool with IdleCount 0 and removes its directory: every test must leave nothing. */
afterEach(async () => {
  const config = await configWith(poolToml(0));
  await keeper(config).cycle();
  rmSync(config.poolDefaults.directory!, { recursive: true, force: true });
  expect(await waitForNothingLeft(stack, 30_000)).toEqual(nothingLeft);
});

describe('pool keep against the ECS emulator', () => {
  it('fills to IdleCount with ready, SSH-checked tasks, then holds steady', async () => {
    const config = await configWith(poolToml(2));
    const first = await keeper(config).cycle();
    expect(first.pools).toEqual([{ name: 'warm', wanted: 2, filled: 2, retired: 0 }]);
    const entries = ready(config);
    expect(entries).toHaveLength(2);
    for (const { entry, path } of entries) {
      expect(entry).toMatchObject({ pool: 'warm', hostKey: expect.stringMatching(/^AAAA/), address: expect.stringMatching(/^127\./) });
      expect(readFileSync(path, 'utf8')).toContain('PRIVATE KEY');
    }
    const tasks = await describeArns(entries.map((e) => e.entry.taskArn!));
    for (const task of tasks) {
      expect(task.lastStatus).toBe('RUNNING');
      expect(task.tags).toEqual(expect.arrayContaining([{ key: 'gitlab-fargate:pool', value: 'warm' }, { key: 'gitlab-fargate:manager', value: MANAGER }]));
      const env = task.overrides?.containerOverrides?.[0]?.environment ?? [];
      const deadline = entries.find((e) => e.entry.taskArn === task.taskArn)!.entry.idleDeadline;
      expect(env).toContainEqual({ name: POOL_IDLE_DEADLINE_VARIABLE, value: String(deadline) });
    }
    const second = await keeper(config).cycle();
    expect(second).toEqual<CycleReport>({ lostDirectory: false, pools: [{ name: 'warm', wanted: 2, filled: 0, retired: 0 }], collected: [] });
    expect(ready(config).map((e) => e.entry.taskArn).sort()).toEqual(entries.map((e) => e.entry.taskArn).sort());
    expect(poolStatus(config, config.poolDefaults.directory!).pools).toEqual([expect.objectContaining({ name: 'warm', ready: 2, pending: 0, claimed: 0 })]);
  });

  it('keeps the IdleCount of the last matching policy in its time zone (injected clock)', async () => {
    // Thursday 2030-12-05, 06:55 UTC = 07:55 in Berlin: before "8-17 mon-fri" there; 07:05 UTC = 08:05 Berlin: inside.
    // A date in the future: each task's idle deadline counts from the injected clock, and the ci-coordinator's
    // watchdog stops at once a task whose deadline has already passed by the real one.
    const before = Date.parse('2030-12-05T06:55:00Z');
    const inside = Date.parse('2030-12-05T07:05:00Z');
    const policies = '[[Pool.Policy]]\nPeriods = ["* 8-17 * * mon-fri"]\nTimezone = "Europe/Berlin"\nIdleCount = 2\n' + '[[Pool.Policy]]\nPeriods = ["10-59 7 * * *"]\nTimezone = "UTC"\nIdleCount = 1\n';
    const config = await configWith(poolToml(0, policies));
    expect((await keeper(config, () => before).cycle()).pools[0]).toMatchObject({ wanted: 0, filled: 0 });
    expect((await keeper(config, () => inside).cycle()).pools[0]).toMatchObject({ wanted: 2, filled: 2 });
    // 07:12 UTC: both match, the last one wins: one surplus task is retired (both are far from their idle deadline).
    const later = Date.parse('2030-12-05T07:12:00Z');
    expect((await keeper(config, () => later).cycle()).pools[0]).toMatchObject({ wanted: 1, filled: 0, retired: 1 });
    expect(ready(config)).toHaveLength(1);
  });

  it('drains the entries of an older configuration and fills anew', async () => {
    const config = await configWith(poolToml(1));
    await keeper(config).cycle();
    const [old] = ready(config);
    const changed = await configWith(poolToml(1), 'PropagateTags = "TASK_DEFINITION"\n');
    const report = await keeper(changed).cycle();
    expect(report.pools[0]).toMatchObject({ filled: 1, retired: 1 });
    const [fresh] = ready(changed);
    expect(fresh!.entry.taskArn).not.toBe(old!.entry.taskArn);
    expect(fresh!.entry.configHash).not.toBe(old!.entry.configHash);
    expect((await describeArns([old!.entry.taskArn!]))[0]?.desiredStatus).toBe('STOPPED');
  });

  it('replaces an idle task that a Spot interruption stopped', async () => {
    const config = await configWith(poolToml(1), 'CapacityProviderStrategy = [{ CapacityProvider = "FARGATE_SPOT", Weight = 1 }]\n');
    await keeper(config).cycle();
    const [before] = ready(config);
    expect(stack.emulator.interruptSpot(before!.entry.taskArn!, 100)).toBe(true);
    const report = await keeper(config).cycle();
    expect(report.pools[0]).toMatchObject({ filled: 1 });
    const [after] = ready(config);
    expect(after!.entry.taskArn).not.toBe(before!.entry.taskArn);
  });

  it('stops every pool task of this manager when the pool directory is lost', async () => {
    const config = await configWith(poolToml(2));
    await keeper(config).cycle();
    const lost = ready(config).map((e) => e.entry.taskArn!).sort();
    rmSync(config.poolDefaults.directory!, { recursive: true, force: true });
    const drained = await configWith(poolToml(0));
    const report = await keeper(drained).cycle();
    expect(report.lostDirectory).toBe(true);
    expect([...report.collected].sort()).toEqual(lost);
    expect((await describeArns(lost)).map((t) => t.desiredStatus)).toEqual(['STOPPED', 'STOPPED']);
  });

  it('leaves nothing after a keeper killed mid-fill, once a keeper runs again', async () => {
    const config = await configWith(poolToml(1));
    const root = config.poolDefaults.directory!;
    const pending = join(root, 'warm', 'pending');
    const child = spawn(stack.driver.executable, [...stack.driver.leadingArgs, 'pool', 'keep', '--config', stack.driverConfigPath], {
      env: { ...stack.env, GITLAB_FARGATE_MANAGER_ID: MANAGER },
      stdio: 'ignore',
    });
    // The observable moment: the pending entry names the task RunTask started (before its SSH is ready).
    await until(() => existsSync(pending) && readdirSync(pending).some((name) => readFileSync(join(pending, name), 'utf8').includes('"taskArn"')));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const report = await keeper(await configWith(poolToml(0))).cycle();
    expect(report.pools[0]).toMatchObject({ filled: 0 });
    expect(listPoolEntries(root, 'warm')).toEqual([]);
  });

  it('stops cleanly on SIGTERM mid-fill: exit 0, its task stopped, no entry left', async () => {
    const config = await configWith(poolToml(1));
    const root = config.poolDefaults.directory!;
    const pending = join(root, 'warm', 'pending');
    const child = spawn(stack.driver.executable, [...stack.driver.leadingArgs, 'pool', 'keep', '--config', stack.driverConfigPath], {
      env: { ...stack.env, GITLAB_FARGATE_MANAGER_ID: MANAGER },
      stdio: 'ignore',
    });
    let taskArn: string | undefined;
    await until(() => {
      const names = existsSync(pending) ? readdirSync(pending) : [];
      taskArn = names.map((name) => /"taskArn": "([^"]+)"/.exec(readFileSync(join(pending, name), 'utf8'))?.[1]).find(Boolean);
      return taskArn !== undefined;
    });
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await describeArns([taskArn!]))[0]?.desiredStatus).toBe('STOPPED');
  });

  it('drains a pool that was removed from the configuration and removes its directory', async () => {
    const config = await configWith(poolToml(1));
    await keeper(config).cycle();
    const [old] = ready(config);
    const renamed = await configWith('[[Pool]]\nName = "other"\nIdleCount = 0\n');
    await keeper(renamed).cycle();
    expect(existsSync(join(config.poolDefaults.directory!, 'warm'))).toBe(false);
    expect((await describeArns([old!.entry.taskArn!]))[0]?.desiredStatus).toBe('STOPPED');
  });

  it('gives a claim the ready task and not twice', async () => {
    const config = await configWith(poolToml(1));
    await keeper(config).cycle();
    const [entry] = ready(config);
    const request = { root: config.poolDefaults.directory!, pools: config.pools.map((p) => p.name), poolKey: entry!.entry.poolKey, configHash: entry!.entry.configHash, jobKey: 'job-1', claimMarginSeconds: 120, nowMs: Date.now() };
    const started = performance.now();
    const claimed = claimPoolEntry(request);
    expect(claimed?.entry.taskArn).toBe(entry!.entry.taskArn);
    expect(claimPoolEntry({ ...request, jobKey: 'job-2' })).toBeUndefined();
    // The warm path: the task's own key, its pinned host key, and the in-task lock (mkdir: exactly one owner).
    const { address, port, username, privateKey, hostKey } = claimed!.entry;
    const connection = await sshTransport.connect({ host: address!, port, username, privateKey, hostKey: hostKey! }, { timeoutMs: 10_000 });
    // One command (the driver's exec runs it with `exec`); the run directory comes with the watchdog's image later.
    const lock = `sh -c 'mkdir -p ${POOL_RUN_DIR} && mkdir ${POOL_CLAIM_LOCK_DIR}'`;
    const sink = () => new PassThrough();
    expect((await connection.exec(lock, { stdin: '', stdout: sink(), stderr: sink() })).exitCode).toBe(0);
    const warmMs = performance.now() - started;
    expect((await connection.exec(lock, { stdin: '', stdout: sink(), stderr: sink() })).exitCode).not.toBe(0);
    connection.close();
    process.stdout.write(`warm claim + SSH connect + in-task lock on the emulator: ${warmMs.toFixed(0)} ms\n`);
    // A claimed task is the job's: the keeper neither stops it nor counts it as idle, so it fills a new one.
    const report = await keeper(config).cycle();
    expect(report).toMatchObject({ collected: [], pools: [{ filled: 1 }] });
    expect((await describeArns([entry!.entry.taskArn!]))[0]?.desiredStatus).toBe('RUNNING');
    // The job's cleanup (a later step) stops its task; the keeper then drops the claimed entry.
    await stack.ecs.send(new (await import('@aws-sdk/client-ecs')).StopTaskCommand({ cluster: stack.cluster, task: entry!.entry.taskArn! }));
  });
});

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pool');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
