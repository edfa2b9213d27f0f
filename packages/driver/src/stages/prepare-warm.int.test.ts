import { ECSClient, StopTaskCommand, TagResourceCommand } from '@aws-sdk/client-ecs';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { POOL_CLAIM_COMMAND, POOL_CLAIM_TAG_KEYS, POOL_RUN_DIR } from '@gitlab-fargate/config';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt } from '../../test/cli-process.js';
import { testContext } from '../../test/context.js';
import { type Sshd, startSshd } from '../../test/sshd-fixture.js';
import type { CommandLineOverrides } from '../job/command-line.js';
import { readOverrides } from '../job/overrides.js';
import { planLaunch } from '../job/plan.js';
import { type JobState, readState, stateStem, writeState } from '../job/state.js';
import { ensurePoolDirectory, writeEntry } from '../pool/directory.js';
import type { PoolEntry } from '../pool/entry.js';
import { currentKeys } from '../pool/task-keys.js';
import { sshTransport } from '../ssh/connect.js';
import { generateJobKeyPair } from '../ssh/keys.js';
import { multiplexedTransport } from '../ssh/mux/client.js';
import { stopMultiplexer } from '../ssh/mux/launcher.js';
import { MUX_COMMAND } from '../ssh/mux/protocol.js';
import { muxSocketPath } from '../ssh/mux/socket.js';
import { type StageContext, jobStatePath } from './context.js';
import { JobMultiplexer } from './prepare-mux.js';
import { type WarmPrepareInput, prepareWarm } from './prepare-warm.js';

// The warm path against a real sshd (the fixture, standing in for an idle pool task's ci-coordinator) with ECS
// mocked: which task the job takes, what it does with one whose in-task lock is gone or whose host key is wrong.
const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const taskKey = generateJobKeyPair('pool-task');
const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${id}`;
let sshd: Sshd;
let hostKey: string;

beforeAll(async () => {
  ensureBuilt(); // the multiplexer tests start the compiled driver's multiplexer process
  sshd = await startSshd(taskKey.publicKey);
  const connection = await sshTransport.connect({ host: sshd.host, port: sshd.port, username: 'root', privateKey: taskKey.privateKey });
  hostKey = connection.hostKey;
  connection.close();
}, 120_000);
afterAll(async () => {
  await sshd?.stop();
  ecsMock.restore();
});

/** A fresh in-task lock's parent (the ci-coordinator image has it): each test's task is unclaimed again. */
async function resetLock(): Promise<void> {
  const connection = await sshTransport.connect({ host: sshd.host, port: sshd.port, username: 'root', privateKey: taskKey.privateKey, hostKey });
  await connection.exec(`sh -c 'rm -rf ${POOL_RUN_DIR} && mkdir -p ${POOL_RUN_DIR}'`, { stdin: '', stdout: new PassThrough(), stderr: new PassThrough() });
  connection.close();
}

beforeEach(async () => {
  ecsMock.reset();
  ecsMock.on(StopTaskCommand).resolves({});
  ecsMock.on(TagResourceCommand).resolves({});
  await resetLock();
});

/** A job of a runner with one pool, its plan, and a `prepareWarm` input over it. */
function job(env: Record<string, string> = {}, cli: CommandLineOverrides = {}) {
  const t = testContext({ extra: '[Overrides]\nMaxCpu = 1024\n[[Pool]]\nName = "warm"\n', env });
  const ctx = { ...t.ctx, cli };
  const { config } = ctx;
  const keys = generateJobKeyPair('job');
  const plan = planLaunch(config, ctx.env, cli, readOverrides(ctx.env.variables, config.overrides), keys.publicKey, 'seed');
  const path = jobStatePath(t.ctx);
  const initial: JobState = {
    version: 1, jobId: '42', runnerShortToken: 'abc123xyz', cluster: 'ci', port: 22, username: 'root',
    privateKey: keys.privateKey, publicKey: keys.publicKey, createdAt: new Date().toISOString(),
  };
  writeState(path, initial);
  const root = config.poolDefaults.directory!;
  ensurePoolDirectory(root, 'warm');
  /** A ready entry as the keeper writes it, for the fixture sshd (or with another host key pinned). */
  const addReady = (id: string, options: { hostKey?: string; deadlineIn?: number; observed?: PoolEntry['observed'] } = {}): string => {
    const entry: PoolEntry = {
      version: 1, pool: 'warm', ...currentKeys({ config, env: t.ctx.env }), cluster: 'ci', fillId: id, taskArn: arn(id),
      address: sshd.host, port: sshd.port, username: 'root', privateKey: taskKey.privateKey, publicKey: taskKey.publicKey,
      hostKey: options.hostKey ?? hostKey, launchedAt: new Date().toISOString(),
      idleDeadline: Math.floor(Date.now() / 1000) + (options.deadlineIn ?? 1200),
      ...(options.observed === undefined ? {} : { observed: options.observed }),
    };
    writeEntry(root, entry, 'ready');
    return entry.taskArn!;
  };
  const input: WarmPrepareInput = {
    ctx, ecs: async () => ecs, plan, path, initial, started: Date.now(), transport: sshTransport, mux: new JobMultiplexer(ctx, path),
    sleep: async () => {}, now: Date.now, deadline: new Date('2030-01-01T00:00:00Z'),
  };
  const entries = (state: string) => readdirSync(join(root, 'warm', state));
  /** The input under another stage context (a cancelled one, one that starts multiplexers), with its own multiplexer. */
  const within = (other: StageContext): WarmPrepareInput => ({ ...input, ctx: other, mux: new JobMultiplexer(other, path) });
  return { ...t, input, path, addReady, entries, within };
}

describe('prepareWarm', () => {
  it("takes the ready task: the state has the task's key, address and pinned host key; one TagResource marks it the job's", async () => {
    const j = job();
    const observed = { cpu: 1024, memoryMiB: 2048, ephemeralGiB: 21, capacity: 'FARGATE_SPOT', architecture: 'ARM64', taskStartedAt: '2026-12-03T04:00:00.000Z' } as const;
    const taskArn = j.addReady('t1', { observed });
    const state = await prepareWarm(j.input);
    expect(state).toMatchObject({ taskArn, address: sshd.host, port: sshd.port, hostKey, privateKey: taskKey.privateKey, pool: { name: 'warm' } });
    // The size the keeper observed, for the job's cost from its claim; not the pool task's own start times.
    const { taskStartedAt: _poolStart, ...size } = observed;
    expect(state?.metrics).toEqual({ ...size, claimedAt: expect.any(String), readyAt: expect.any(String) });
    expect(readState(j.path)).toEqual(state);
    expect(j.entries('claimed')).toEqual([`t1.${stateStem('abc123xyz', '42')}.json`]);
    expect(j.progress.lines.join('')).toMatch(new RegExp(`Warm start: took idle task ${taskArn} of pool warm \\(claim \\d+ ms, in-task lock \\d+ ms\\)`));
    expect(ecsMock).toHaveReceivedCommandTimes(TagResourceCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: taskArn,
      tags: [
        { key: 'gitlab-fargate:deadline', value: '2030-01-01T00:00:00Z' },
        { key: 'gitlab-fargate:pool-claimed', value: '42' },
        { key: 'gitlab-fargate:job-id', value: '42' },
        { key: 'gitlab-fargate:project', value: 'group/project' },
      ],
    });
    // The manager's IAM allows exactly the contract's keys on a running task: any other key fails the whole call.
    const sent = ecsMock.commandCalls(TagResourceCommand)[0]!.args[0].input.tags ?? [];
    expect(sent.map((tag) => tag.key).filter((key) => !(POOL_CLAIM_TAG_KEYS as readonly (string | undefined)[]).includes(key))).toEqual([]);
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
  }, 60_000);

  it('stops a task whose in-task lock is taken, removes its entry, and goes cold saying why', async () => {
    const j = job();
    const taskArn = j.addReady('t1');
    expect(await prepareWarm(j.input)).toBeDefined();
    // Another job's (or the watchdog's) lock is now in the "task": a second job must not use it.
    const k = job();
    k.addReady('t2');
    expect(await prepareWarm(k.input)).toBeUndefined();
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('t2') });
    expect(ecsMock).not.toHaveReceivedCommandWith(StopTaskCommand, { task: taskArn });
    expect(k.progress.lines.join('')).toMatch(new RegExp(`Cold start: warm task ${arn('t2')} failed: its in-task lock \\(mkdir .*\\) exited 1: .*File exists.*; no other ready task in pool warm`));
    expect(readState(k.path)).toEqual(k.input.initial);
    expect(k.entries('claimed').filter((name) => name.startsWith('t2.'))).toEqual([]);
  }, 60_000);

  it('tries one more task after a failure (a wrong host key pinned), then takes it', async () => {
    const j = job();
    // The soonest to expire is tried first.
    j.addReady('bad', { hostKey: 'AAAAC3NzaC1lZDI1NTE5AAAAIBadBadBadBadBadBadBadBadBadBadBadBadBadBadBa', deadlineIn: 600 });
    const good = j.addReady('good');
    const state = await prepareWarm(j.input);
    expect(state?.taskArn).toBe(good);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('bad') });
    expect(j.entries('ready')).toEqual([]);
  }, 60_000);

  it('goes cold with the reason for a job of another size, and says nothing without a pool', async () => {
    const j = job({ CUSTOM_ENV_FARGATE_CPU: '1024' });
    j.addReady('t1');
    expect(await prepareWarm(j.input)).toBeUndefined();
    expect(j.progress.lines.join('')).toContain(
      "Cold start: no pool for this job's task definition/size (its RunTask differs from pool warm's: CPU 1024 units here, the task definition's in the pool)",
    );
    expect(j.entries('ready')).toHaveLength(1);
    const image = job();
    image.addReady('t2');
    expect(await prepareWarm({ ...image.input, imageHash: 'ci-job-0123456789abcdef' })).toBeUndefined();
    expect(image.progress.lines.join('')).toMatch(/Cold start: no pool for this job's image: and services:/);
    const none = testContext();
    expect(await prepareWarm(j.within(none.ctx))).toBeUndefined();
    expect(none.progress.lines).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("names both task definitions, and prepare_args as their source, when the runner passes --task-def the keeper never sees", async () => {
    const j = job({}, { taskDefinition: 'ci-job-large:7', platformVersion: '1.4.0' });
    j.addReady('t1');
    expect(await prepareWarm(j.input)).toBeUndefined();
    expect(j.progress.lines.join('')).toContain(
      "Cold start: no pool for this job's task definition/size (its RunTask differs from pool warm's: task definition ci-job-large:7 here, " +
        "ci-job:3 in the pool; platform version 1.4.0 here, LATEST in the pool; the runner's prepare_args pass --task-def (set [Fargate] " +
        'TaskDefinition instead) and --platform-version (set [Fargate] PlatformVersion instead), which `pool keep` never sees: it starts ' +
        'tasks from the driver TOML alone)',
    );
    expect(j.entries('ready')).toHaveLength(1);
  });

  it('takes no task for a job already cancelled', async () => {
    const j = job();
    j.addReady('t1');
    const cancel = new AbortController();
    cancel.abort(new Error('job cancelled'));
    await expect(prepareWarm(j.within({ ...j.ctx, signal: cancel.signal }))).rejects.toThrow('job cancelled');
    expect(j.entries('ready')).toHaveLength(1);
  });

  it('goes cold naming a damaged entry it claimed, and removes that entry', async () => {
    const j = job();
    j.addReady('t1');
    const [file] = j.entries('ready');
    writeFileSync(join(j.input.ctx.config.poolDefaults.directory!, 'warm', 'ready', file!), '{ damaged');
    expect(await prepareWarm(j.input)).toBeUndefined();
    expect(j.progress.lines.join('')).toMatch(/Cold start: a damaged entry in pool warm \(/);
    expect(j.entries('claimed')).toEqual([]);
  }, 60_000);

  it('gives the task back and goes cold when TagResource fails: its idle deadline tag would get it reaped mid-job', async () => {
    ecsMock.on(TagResourceCommand).rejects(Object.assign(new Error('not authorized to perform ecs:TagResource'), { name: 'AccessDeniedException' }));
    const j = job();
    const taskArn = j.addReady('t1');
    expect(await prepareWarm(j.input)).toBeUndefined();
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: taskArn });
    expect(j.entries('claimed')).toEqual([]);
    expect(j.progress.lines.join('')).toMatch(new RegExp(`Cold start: warm task ${taskArn} failed: could not tag it as this job's .*AccessDenied`));
    expect(j.progress.lines.join('')).not.toMatch(/Warm start/);
  }, 60_000);

  describe('with the job\'s multiplexer ([SSH] Multiplex, the compiled driver)', () => {
    it("hands the task to the job's multiplexer once the lock is the job's", async () => {
      const j = job();
      const taskArn = j.addReady('t1');
      const state = await prepareWarm(j.within({ ...j.ctx, driverEntry: CLI }));
      try {
        expect(state).toMatchObject({ taskArn, mux: { socket: muxSocketPath(j.path) } });
        expect(readState(j.path)).toEqual(state);
        // The multiplexer serves the task, and the lock is the job's: the same command through it finds it taken.
        const connection = await multiplexedTransport(state!.mux!.socket).connect({ host: '', port: 0, username: '', privateKey: '' });
        const again = await connection.exec(POOL_CLAIM_COMMAND, { stdin: '', stdout: new PassThrough(), stderr: new PassThrough() });
        expect(again.exitCode).toBe(1);
      } finally {
        if (state?.mux !== undefined) stopMultiplexer(state.mux);
      }
    }, 60_000);

    it('keeps one multiplexer, never told of the tasks whose lock failed, for the cold path (wrong host key, lock taken)', async () => {
      const j = job();
      j.addReady('t1');
      expect(await prepareWarm(j.input)).toBeDefined(); // the fixture's lock is taken now
      const k = job();
      k.addReady('bad', { hostKey: 'AAAAC3NzaC1lZDI1NTE5AAAAIBadBadBadBadBadBadBadBadBadBadBadBadBadBadBa', deadlineIn: 600 });
      k.addReady('t2');
      const input = k.within({ ...k.ctx, driverEntry: CLI });
      expect(await prepareWarm(input)).toBeUndefined();
      expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('bad') });
      expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('t2') });
      expect(k.progress.lines.join('')).toMatch(
        new RegExp(`Cold start: warm task ${arn('bad')} failed: .*; warm task ${arn('t2')} failed: its in-task lock \\(mkdir .*\\) exited 1: .*File exists`),
      );
      expect(readState(k.path)).toEqual(k.input.initial);
      expect(k.entries('claimed')).toEqual([]);
      // One multiplexer for both attempts, still waiting: the task the cold path starts is the first it is told of.
      expect(multiplexersOf(k.path)).toHaveLength(1);
      const coldTask: JobState = { ...k.input.initial, taskArn: arn('cold'), address: sshd.host, port: sshd.port, privateKey: taskKey.privateKey, hostKey };
      writeState(k.path, coldTask);
      const handed = await input.mux.handOver(coldTask);
      try {
        expect(handed.mux?.pid).toBe(multiplexersOf(k.path)[0]);
        const connection = await multiplexedTransport(handed.mux!.socket).connect({ host: '', port: 0, username: '', privateKey: '' });
        expect((await connection.exec('true', { stdin: '', stdout: new PassThrough(), stderr: new PassThrough() })).exitCode).toBe(0);
      } finally {
        input.mux.abort();
      }
      expect(existsSync(muxSocketPath(k.path))).toBe(false);
    }, 60_000);

    it('stops the multiplexer it handed a task that it then gave back (TagResource failed)', async () => {
      const j = job();
      // TagResource fails only once the multiplexer serves the task (it ran a command there): it must not outlive the job's claim.
      ecsMock.on(TagResourceCommand).callsFake(async () => {
        await until(() => existsSync(muxSocketPath(j.path)));
        const connection = await multiplexedTransport(muxSocketPath(j.path)).connect({ host: '', port: 0, username: '', privateKey: '' });
        expect((await connection.exec('true', { stdin: '', stdout: new PassThrough(), stderr: new PassThrough() })).exitCode).toBe(0);
        throw Object.assign(new Error('not authorized to perform ecs:TagResource'), { name: 'AccessDeniedException' });
      });
      const taskArn = j.addReady('t1');
      expect(await prepareWarm(j.within({ ...j.ctx, driverEntry: CLI }))).toBeUndefined();
      expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: taskArn });
      expect(readState(j.path)).toEqual(j.input.initial);
      await until(() => multiplexersOf(j.path).length === 0);
      expect(existsSync(muxSocketPath(j.path))).toBe(false);
    }, 60_000);
  });
});

/** The pids of the multiplexer processes started for the job whose state file is `statePath` (by their command line). */
function multiplexersOf(statePath: string): number[] {
  const socket = JSON.stringify(muxSocketPath(statePath)).slice(1, -1);
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).flatMap((pid) => {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return commandLine.includes(MUX_COMMAND) && commandLine.includes(socket) ? [Number(pid)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}

/** Waits for an observable change (a process exiting after its SIGTERM). */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
