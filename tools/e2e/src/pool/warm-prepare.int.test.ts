import { existsSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DescribeTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { type DriverConfig, POOL_CLAIM_COMMAND, loadDriverConfig } from '@gitlab-fargate/config';
import {
  type KeeperContext, NO_METRICS, PoolKeeper, type StoredEntry, createLogger, listPoolEntries, readJobEnvironment, readState, sshTransport,
  statePath,
} from '@gitlab-fargate/driver';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import type { RunnerSettings } from '@gitlab-fargate/runner-harness';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolJob, type StageExit } from '../reliability/driver-stage.js';
import { useLocalStack } from '../shared-stack.js';
import { waitForNothingLeft } from '../index.js';

// Prepare's warm path against the ECS emulator and the real ci-coordinator image (its idle watchdog and in-task
// lock): the keeper fills the pool in-process, each job's stages run as the runner runs them (one process each).
let stack: LocalStack;
let runner: RunnerSettings;
useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

const MANAGER = 'pool-test-manager';
const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };
const poolToml = (idleCount: number, extra = '') => `[[Pool]]\nName = "warm"\nIdleCount = ${idleCount}\nMaxIdle = 5\n${extra}`;
/** A job may ask for another size: its RunTask then differs from the pool tasks'. */
const SIZE_OVERRIDES = '[Overrides]\nMaxCpu = 1024\nMaxMemory = 2048\n';

async function configWith(extraTables: string): Promise<DriverConfig> {
  await stack.rewriteDriverConfig({ extraTables });
  return (await loadDriverConfig(stack.driverConfigPath)).config;
}

function keeper(config: DriverConfig, now: () => number = Date.now): PoolKeeper {
  const ctx: KeeperContext = {
    config,
    root: config.poolDefaults.directory!,
    env: readJobEnvironment(stack.env),
    managerId: MANAGER,
    clients: { ecs: stack.ecs, ec2: async () => Promise.reject(new Error('no EC2 in these tests')) },
    transport: sshTransport,
    log: createLogger({ level: 'warn', sink: { write: () => {} }, progress: { write: () => {} } }),
    signal: new AbortController().signal,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now,
    metrics: NO_METRICS,
  };
  return new PoolKeeper(ctx);
}

/** Fills the pool to `idleCount` ready tasks. */
async function filledPool(idleCount: number, extra = ''): Promise<{ config: DriverConfig; root: string; ready: StoredEntry[] }> {
  const config = await configWith(poolToml(idleCount, extra));
  await keeper(config).cycle();
  const root = config.poolDefaults.directory!;
  const ready = listPoolEntries(root, 'warm').filter((e) => e.state === 'ready');
  expect(ready).toHaveLength(idleCount);
  return { config, root, ready };
}

async function describeArns(arns: readonly string[]): Promise<Task[]> {
  const out = await stack.ecs.send(new DescribeTasksCommand({ cluster: stack.cluster, tasks: [...arns], include: ['TAGS'] }));
  return out.tasks ?? [];
}

/** The task the job's state file names (read while the job is between prepare and cleanup). */
function taskOfJob(job: ProtocolJob): string | undefined {
  return readState(statePath(stack.metadataDirectory, job.runnerShortToken, String(job.jobId)))?.taskArn;
}

async function stage(job: ProtocolJob, name: 'prepare' | 'cleanup'): Promise<StageExit> {
  return job.start(name).exited;
}

/** Drains the pool with IdleCount 0 and removes its directory: every test must leave nothing. */
afterEach(async () => {
  const config = await configWith(poolToml(0));
  await keeper(config).cycle();
  rmSync(config.poolDefaults.directory!, { recursive: true, force: true });
  expect(await waitForNothingLeft(stack, 60_000)).toEqual(nothingLeft);
});

describe('prepare takes a warm pool task', () => {
  it('takes the ready task (no RunTask), the job runs in it, cleanup stops it and removes its entry', async () => {
    const { root, ready } = await filledPool(1);
    const taskArn = ready[0]!.entry.taskArn!;
    const job = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
    const started = performance.now();
    const prepare = await stage(job, 'prepare');
    const took = performance.now() - started;
    expect(prepare.code, prepare.output).toBe(0);
    expect(prepare.output).toMatch(new RegExp(`Warm start: took idle task ${taskArn} of pool warm \\(claim \\d+ ms, in-task lock \\d+ ms\\)`));
    process.stdout.write(`warm prepare on the emulator: ${took.toFixed(0)} ms, process start to exit (${/claim \d+ ms, in-task lock \d+ ms/.exec(prepare.output)?.[0]})\n`);
    expect(prepare.output).not.toMatch(/Starting a Fargate task/);
    expect(taskOfJob(job)).toBe(taskArn);
    expect(listPoolEntries(root, 'warm').map((e) => e.state)).toEqual(['claimed']);
    // The job's deadline and the claim replace the idle deadline: gc and the reaper judge the task as the job's.
    const expiresAt = readState(statePath(stack.metadataDirectory, job.runnerShortToken, String(job.jobId)))!.expiresAt!;
    const [tagged] = await describeArns([taskArn]);
    expect(tagged!.tags).toEqual(expect.arrayContaining([
      { key: 'gitlab-fargate:pool-claimed', value: String(job.jobId) },
      { key: 'gitlab-fargate:deadline', value: `${expiresAt.slice(0, 19)}Z` },
      { key: 'gitlab-fargate:job-id', value: String(job.jobId) },
    ]));
    const run = await (await job.startRun(['echo "ran in $(hostname)"'])).exited;
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('ran in');
    // The job log's last lines: the size the keeper recorded at fill time gives the job its cost, from the claim.
    const last = await (await job.startRun(['true'], 'cleanup_file_variables')).exited;
    expect(last.code, last.output).toBe(0);
    expect(last.output).toMatch(/ {2}warm start: an idle task of pool warm, claimed in \d+ ms, after \d+\.\d s idle \(the pool's cost; this job's counts from the claim\)/);
    expect(last.output).toMatch(/Fargate cost so far: \d+ s.* × [\d.]+ vCPU, [\d.]+ GB: [\d.]+ vCPU-s, [\d.]+ GB-s.*; on-demand x86 in /);
    expect(last.output).not.toContain('Fargate cost so far: unknown');
    const cleanup = await stage(job, 'cleanup');
    expect(cleanup.code, cleanup.output).toBe(0);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await describeArns([taskArn]))[0]?.desiredStatus).toBe('STOPPED');
    await job.remove();
  });

  it('gives 20 concurrent prepares the 5 ready tasks exactly once: 5 warm, 15 cold', async () => {
    const { ready } = await filledPool(5);
    const poolArns = ready.map((e) => e.entry.taskArn!).sort();
    const jobs = await Promise.all(Array.from({ length: 20 }, () => ProtocolJob.create(stack, runner, { timeoutSeconds: 600 })));
    const prepares = await Promise.all(jobs.map((job) => stage(job, 'prepare')));
    for (const prepare of prepares) expect(prepare.code, prepare.output).toBe(0);
    const warm = prepares.filter((p) => /Warm start: took idle task/.test(p.output));
    const cold = prepares.filter((p) => /Cold start: no ready task in pool warm/.test(p.output));
    expect([warm.length, cold.length]).toEqual([5, 15]);
    const arns = jobs.map(taskOfJob);
    expect(new Set(arns).size).toBe(20);
    const warmArns = jobs.filter((_, i) => warm.includes(prepares[i]!)).map(taskOfJob).sort();
    expect(warmArns).toEqual(poolArns);
    const cleanups = await Promise.all(jobs.map((job) => stage(job, 'cleanup')));
    for (const cleanup of cleanups) expect(cleanup.code, cleanup.output).toBe(0);
    await Promise.all(jobs.map((job) => job.remove()));
  }, 300_000);

  it('goes cold when the idle watchdog took the in-task lock first, and stops that task', async () => {
    const { root, ready } = await filledPool(1);
    const { entry } = ready[0]!;
    // What the watchdog does at the idle deadline: take the lock (the same command, over SSH with the task's key).
    const connection = await sshTransport.connect(
      { host: entry.address!, port: entry.port, username: entry.username, privateKey: entry.privateKey, hostKey: entry.hostKey! },
      { timeoutMs: 10_000 },
    );
    const locked = await connection.exec(POOL_CLAIM_COMMAND, { stdin: '', stdout: new PassThrough(), stderr: new PassThrough() });
    connection.close();
    expect(locked.exitCode).toBe(0);
    const job = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
    const prepare = await stage(job, 'prepare');
    expect(prepare.code, prepare.output).toBe(0);
    expect(prepare.output).toMatch(new RegExp(`Cold start: warm task ${entry.taskArn} failed: its in-task lock .* exited 1.*; no other ready task in pool warm`));
    expect(prepare.output).toMatch(/Starting a Fargate task/);
    expect((await describeArns([entry.taskArn!]))[0]?.desiredStatus).toBe('STOPPED');
    expect(taskOfJob(job)).not.toBe(entry.taskArn);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await stage(job, 'cleanup')).code).toBe(0);
    await job.remove();
  });

  it('goes cold when the ready task was stopped before the keeper noticed (a Spot interruption: a stale entry)', async () => {
    await stack.rewriteDriverConfig({ extraTables: poolToml(1), fargateExtra: 'CapacityProviderStrategy = [{ CapacityProvider = "FARGATE_SPOT", Weight = 1 }]\n' });
    const config = (await loadDriverConfig(stack.driverConfigPath)).config;
    await keeper(config).cycle();
    const root = config.poolDefaults.directory!;
    const [stale] = listPoolEntries(root, 'warm');
    const taskArn = stale!.entry.taskArn!;
    expect(stack.emulator.interruptSpot(taskArn, 100)).toBe(true);
    // The observable event: ECS reports the task stopped; its entry is still in ready/.
    await untilAsync(async () => (await describeArns([taskArn]))[0]?.lastStatus === 'STOPPED');
    const job = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
    const prepare = await stage(job, 'prepare');
    expect(prepare.code, prepare.output).toBe(0);
    expect(prepare.output).toMatch(new RegExp(`Cold start: warm task ${taskArn} failed: .*; no other ready task in pool warm`));
    expect(taskOfJob(job)).not.toBe(taskArn);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await stage(job, 'cleanup')).code).toBe(0);
    await job.remove();
  });

  it('leaves nothing cleanup does not remove when prepare is killed (SIGKILL) right after its claim', async () => {
    const { root, ready } = await filledPool(1);
    const taskArn = ready[0]!.entry.taskArn!;
    const job = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
    const claimed = join(root, 'warm', 'claimed');
    const prepare = job.start('prepare');
    // The observable moment: the entry renamed into claimed/ (before the state file names the task, or just after).
    await until(() => existsSync(claimed) && readdirSync(claimed).length > 0);
    prepare.kill('SIGKILL');
    expect((await prepare.exited).signal).toBe('SIGKILL');
    const cleanup = await stage(job, 'cleanup');
    expect(cleanup.code, cleanup.output).toBe(0);
    expect(listPoolEntries(root, 'warm')).toEqual([]);
    expect((await describeArns([taskArn]))[0]?.desiredStatus).toBe('STOPPED');
    // A kill during a state write leaves its temporary file (mode 0600): gc removes those older than 10 minutes.
    const temporary = readdirSync(stack.metadataDirectory).filter((name) => /^\.[0-9a-f]{12}\.tmp$/.test(name));
    const tenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    for (const name of temporary) utimesSync(join(stack.metadataDirectory, name), tenMinutesAgo, tenMinutesAgo);
    const gc = await job.gc().exited;
    expect(gc.code, gc.output).toBe(0);
    await job.remove();
  });

  it('goes cold, saying why, when the job asks for another size than the pool tasks have', async () => {
    const { root, ready } = await filledPool(1, SIZE_OVERRIDES);
    const job = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
    Object.assign(job.env, { CUSTOM_ENV_FARGATE_CPU: '1024', CUSTOM_ENV_FARGATE_MEMORY: '2048' });
    const started = performance.now();
    const prepare = await stage(job, 'prepare');
    process.stdout.write(`cold prepare on the emulator: ${(performance.now() - started).toFixed(0)} ms, process start to exit\n`);
    expect(prepare.code, prepare.output).toBe(0);
    expect(prepare.output).toContain(
      "Cold start: no pool for this job's task definition/size (its RunTask differs from pool warm's: CPU 1024 units here, the task " +
        "definition's in the pool; memory 2048 MiB here, the task definition's in the pool)",
    );
    expect(taskOfJob(job)).not.toBe(ready[0]!.entry.taskArn);
    expect(listPoolEntries(root, 'warm').map((e) => e.state)).toEqual(['ready']);
    expect((await stage(job, 'cleanup')).code).toBe(0);
    await job.remove();
  });
});

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the claim');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function untilAsync(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the task to stop');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
