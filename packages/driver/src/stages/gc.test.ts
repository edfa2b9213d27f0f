import { chmodSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  AccessDeniedException,
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  ECSClient,
  InvalidParameterException,
  ListTasksCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { type JobState, statePath, writeState } from '../job/state.js';
import { jobStatePath } from './context.js';
import { gcStage } from './gc.js';
import { ensurePoolDirectory, writeEntry } from '../pool/directory.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${id}`;
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const minutesAgo = (m: number) => new Date(NOW - m * 60_000);
const notFound = () => new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} });

/** Job 42's state: alive, owning task "live". */
const LIVE: JobState = {
  version: 1,
  jobId: '42',
  runnerShortToken: 'abc123xyz',
  cluster: 'ci',
  region: 'us-east-1',
  taskArn: arn('live'),
  port: 22,
  username: 'root',
  privateKey: 'k',
  publicKey: 'p',
  createdAt: minutesAgo(60).toISOString(),
};

/** DescribeTasks as ECS answers it: tags only when asked for with `include: ['TAGS']`. */
function describeLike(tasks: Task[]) {
  return (input: DescribeTasksCommandInput) => ({
    tasks: tasks.filter((t) => input.tasks?.includes(t.taskArn ?? '')).map((t) => (input.include?.includes('TAGS') ? t : { ...t, tags: [] })),
  });
}

beforeEach(() => ecsMock.reset());

describe('gc with the state directory visible', () => {
  function setup() {
    const job = testContext();
    writeState(jobStatePath(job.ctx), LIVE);
    ecsMock
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [arn('live'), arn('orphan')], nextToken: 'page2' })
      .resolves({ taskArns: [arn('young'), arn('stopping')] });
    ecsMock.on(DescribeTasksCommand).callsFake(
      describeLike([
        { taskArn: arn('live'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING' },
        // A deadline tag does not protect a task that no live state names: the states are what tell live jobs here.
        { taskArn: arn('orphan'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING', tags: [{ key: 'gitlab-fargate:deadline', value: '2026-11-28T14:00:00Z' }] },
        { taskArn: arn('young'), createdAt: minutesAgo(1), desiredStatus: 'RUNNING' },
        { taskArn: arn('stopping'), createdAt: minutesAgo(60), desiredStatus: 'STOPPED' },
      ]),
    );
    ecsMock.on(StopTaskCommand).resolves({});
    return { ...job, path: jobStatePath(job.ctx) };
  }

  it("stops only this runner's old tasks that no live job owns", async () => {
    const job = setup();
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report).toEqual({ stopped: [arn('orphan')], kept: [arn('live'), arn('young'), arn('stopping')], failed: [], removedStates: [], removedFiles: [] });
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, { cluster: 'ci', startedBy: 'gitlab-fargate/abc123xyz' });
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, { nextToken: 'page2' });
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, { cluster: 'ci', include: ['TAGS'] });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('orphan'), reason: 'gitlab-fargate gc: no live job owns this task' });
    expect(existsSync(job.path)).toBe(true);
  });

  it("leaves another manager's jobs to their deadline: managers share the runner's startedBy, not their job states", async () => {
    const job = setup();
    const deadline = (minutes: number) => ({ key: 'gitlab-fargate:deadline', value: new Date(NOW + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') });
    ecsMock.reset();
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [arn('other-live'), arn('other-late'), arn('other-untagged')] });
    ecsMock.on(DescribeTasksCommand).callsFake(
      describeLike([
        { taskArn: arn('other-live'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING', tags: [{ key: 'gitlab-fargate:manager', value: 'b0b' }, deadline(60)] },
        { taskArn: arn('other-late'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING', tags: [{ key: 'gitlab-fargate:manager', value: 'b0b' }, deadline(-1)] },
        { taskArn: arn('other-untagged'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING', tags: [{ key: 'gitlab-fargate:manager', value: 'b0b' }] },
      ]),
    );
    ecsMock.on(StopTaskCommand).resolves({});
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('other-late')]);
    expect(report.kept).toEqual([arn('other-live'), arn('other-untagged')]);
  });

  it('keeps an idle warm-pool task: no job state names it, but the pool directory does', async () => {
    const job = setup();
    const root = job.ctx.config.poolDefaults.directory!;
    ensurePoolDirectory(root, 'small');
    writeEntry(root, {
      version: 1, pool: 'small', poolKey: 'a'.repeat(16), configHash: 'b'.repeat(16), cluster: 'ci', fillId: 'fill-1',
      taskArn: arn('orphan'), port: 22, username: 'root', privateKey: 'k', publicKey: 'p',
      launchedAt: minutesAgo(60).toISOString(), idleDeadline: Math.floor(NOW / 1000) + 600,
    }, 'ready');
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([]);
    expect(report.kept).toContain(arn('orphan'));
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
  });

  it('stops the task of a state whose job cannot still run (its runner died before cleanup) and removes that state', async () => {
    const job = setup();
    writeState(job.path, { ...LIVE, expiresAt: minutesAgo(1).toISOString() });
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('live'), arn('orphan')]);
    expect(report.removedStates).toEqual([job.path]);
    expect(existsSync(job.path)).toBe(false);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: arn('live'), reason: 'gitlab-fargate gc: job 42 cannot still be running' });
    expect(job.progress.lines.join('')).toMatch(/removed the stale state of job 42/);
  });

  it('removes a stale state whose task is already gone', async () => {
    const job = setup();
    const gone = { ...LIVE, jobId: '7', taskArn: arn('gone-long-ago'), expiresAt: minutesAgo(600).toISOString() };
    const path = statePath(job.stateDir, 'abc123xyz', '7');
    writeState(path, gone);
    ecsMock.on(StopTaskCommand, { task: arn('gone-long-ago') }).rejects(notFound());
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(existsSync(path)).toBe(false);
    expect(report.removedStates).toEqual([path]);
    expect(report.stopped).toEqual([arn('orphan')]);
    expect(job.progress.lines.join('')).toContain(`${arn('gone-long-ago')} was already gone`);
  });

  it('removes a stale state that names no task (prepare died before RunTask answered)', async () => {
    const job = setup();
    const { taskArn: _none, ...withoutTask } = LIVE;
    const path = statePath(job.stateDir, 'abc123xyz', '8');
    writeState(path, { ...withoutTask, jobId: '8', expiresAt: minutesAgo(1).toISOString() });
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(existsSync(path)).toBe(false);
    expect(report.removedStates).toEqual([path]);
  });

  it('keeps a stale state whose task it could not stop, goes on with the rest, and fails saying the next gc retries', async () => {
    const job = setup();
    writeState(job.path, { ...LIVE, expiresAt: minutesAgo(1).toISOString() });
    ecsMock.on(StopTaskCommand, { task: arn('live') }).rejects(new AccessDeniedException({ message: 'not authorized to perform: ecs:StopTask', $metadata: {} }));
    await expect(gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW })).rejects.toThrow(
      `gc could not stop ${arn('live')}; the next gc tries again (a stale state naming one is kept for it)`,
    );
    expect(existsSync(job.path)).toBe(true);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('orphan') });
    expect(job.logs.lines.join('')).toMatch(/keeping the stale state of job 42 .* for the next gc/);
    expect(job.progress.lines.at(-1)).toBe('gc: 1 stopped, 2 kept, 0 stale states and 0 other files removed, 1 could not be stopped\n');
  });

  it('keeps the task of a state that has not expired yet', async () => {
    const job = setup();
    writeState(job.path, { ...LIVE, expiresAt: new Date(NOW + 60_000).toISOString() });
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('orphan')]);
    expect(existsSync(job.path)).toBe(true);
  });

  it('removes temporary state files older than 10 minutes and sockets whose state is gone, nothing else', async () => {
    const job = setup();
    const file = (name: string, ageMinutes: number) => {
      const path = join(job.stateDir, name);
      writeFileSync(path, 'x', { mode: 0o600 });
      utimesSync(path, minutesAgo(ageMinutes), minutesAgo(ageMinutes));
      return path;
    };
    const crashedTmp = file('.0123456789ab.tmp', 11);
    const freshTmp = file('.ba9876543210.tmp', 9);
    const orphanSocket = file('abc123xyz-00112233445566ff.sock', 60);
    const liveSocket = file(`${job.path.slice(job.stateDir.length + 1, -'.json'.length)}.sock`, 60);
    const unrelated = [file('notes.txt', 600), file('.profile.tmp', 600), file('other.sock', 600)];
    const staleWithMux = statePath(job.stateDir, 'abc123xyz', '9');
    const staleSocket = join(job.stateDir, 'mux-of-job-9.sock');
    writeFileSync(staleSocket, '');
    writeState(staleWithMux, { ...LIVE, jobId: '9', taskArn: arn('nine'), mux: { pid: 2 ** 22 + 1, socket: staleSocket }, expiresAt: minutesAgo(1).toISOString() });

    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.removedFiles.sort()).toEqual([crashedTmp, orphanSocket].sort());
    expect(report.removedStates).toEqual([staleWithMux]);
    const left = readdirSync(job.stateDir).map((n) => join(job.stateDir, n));
    expect(left.sort()).toEqual([freshTmp, job.path, liveSocket, ...unrelated].sort());
  });

  it('stops and removes nothing in a dry run, saying what it would do', async () => {
    const job = setup();
    const stale = statePath(job.stateDir, 'abc123xyz', '7');
    writeState(stale, { ...LIVE, jobId: '7', taskArn: arn('seven'), expiresAt: minutesAgo(1).toISOString() });
    const tmp = join(job.stateDir, '.0123456789ab.tmp');
    writeFileSync(tmp, 'x');
    utimesSync(tmp, minutesAgo(60), minutesAgo(60));
    const report = await gcStage(job.ctx, { dryRun: true, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report).toMatchObject({ stopped: [arn('seven'), arn('orphan')], removedStates: [stale], removedFiles: [tmp] });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
    expect(existsSync(stale) && existsSync(tmp)).toBe(true);
    expect(job.progress.lines.join('')).toMatch(/would stop .*orphan \(no live job, 3600 s old\)/);
  });

  it('refuses a state directory that others may write, before any AWS call', async () => {
    const job = setup();
    chmodSync(job.stateDir, 0o777);
    await expect(gcStage(job.ctx, { dryRun: false, clients, now: () => NOW })).rejects.toThrow(/refusing the job state directory .*mode 0777.*chmod 700/);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('refuses to guess without a runner token', async () => {
    const noToken = testContext({ env: { CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: '' } });
    await expect(gcStage(noToken.ctx, { dryRun: true, minAgeSeconds: 0, clients })).rejects.toThrow(/gc needs the runner short token/);
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

describe('gc without the state directory (--without-state, or none here: the reaper)', () => {
  const noDirToml = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "x"\n';
  const deadline = (value: string) => [{ key: 'gitlab-fargate:deadline', value }];

  function setup() {
    const reaper = testContext({ toml: noDirToml });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: ['long-job', 'overdue', 'untagged-old', 'untagged-young', 'garbled-tag'].map(arn) });
    ecsMock.on(DescribeTasksCommand).callsFake(
      describeLike([
        // 5 h into a job whose deadline is 2 h from now: kept, however large --min-age is exceeded.
        { taskArn: arn('long-job'), createdAt: minutesAgo(300), desiredStatus: 'RUNNING', tags: deadline('2026-11-28T14:00:00Z') },
        // Past its deadline: stopped, though younger than --min-age.
        { taskArn: arn('overdue'), createdAt: minutesAgo(90), desiredStatus: 'RUNNING', tags: deadline('2026-11-28T11:59:59Z') },
        { taskArn: arn('untagged-old'), createdAt: minutesAgo(200), desiredStatus: 'RUNNING' },
        { taskArn: arn('untagged-young'), createdAt: minutesAgo(100), desiredStatus: 'RUNNING' },
        { taskArn: arn('garbled-tag'), createdAt: minutesAgo(200), desiredStatus: 'RUNNING', tags: deadline('tomorrow') },
      ]),
    );
    ecsMock.on(StopTaskCommand).resolves({});
    return reaper;
  }

  it("stops a task tagged with its job's deadline only once that has passed, whatever --min-age says", async () => {
    const reaper = setup();
    const report = await gcStage(reaper.ctx, { dryRun: false, minAgeSeconds: 3 * 3600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('overdue'), arn('untagged-old'), arn('garbled-tag')]);
    expect(report.kept).toEqual([arn('long-job'), arn('untagged-young')]);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, { include: ['TAGS'] });
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('overdue'), reason: "gitlab-fargate gc: past its job's deadline 2026-11-28T11:59:59Z" });
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('untagged-old'), reason: 'gitlab-fargate gc: older than 10800 s, no deadline tag' });
    expect(reaper.progress.lines[0]).toBe('gc: no job state here; stopping tasks past their deadline tag, or without one older than 10800 s\n');
    expect(reaper.logs.lines.join('')).toContain(`gc keeps ${arn('long-job')}: its job may run until 2026-11-28T14:00:00Z`);
  });

  it('goes by age alone for tasks without a usable deadline tag, and only when the age is given', async () => {
    const reaper = setup();
    await expect(gcStage(reaper.ctx, { dryRun: true, clients })).rejects.toThrow(/gc cannot see live jobs \(no \[TaskMetadata\] Directory\).*pass --min-age/);
    expect(ecsMock.calls()).toHaveLength(0);
    const report = await gcStage(reaper.ctx, { dryRun: false, minAgeSeconds: 90 * 60, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('overdue'), arn('untagged-old'), arn('untagged-young'), arn('garbled-tag')]);
  });

  it('with --without-state ignores the configured state directory, even one it would refuse, and goes by tags and age', async () => {
    // The reaper's own task: [TaskMetadata] Directory is configured, but the folder there is not the manager's.
    const reaper = testContext();
    mkdirSync(reaper.stateDir, { mode: 0o700 });
    writeState(jobStatePath(reaper.ctx), { ...LIVE, taskArn: arn('overdue') });
    chmodSync(reaper.stateDir, 0o777);
    setup();
    await expect(gcStage(reaper.ctx, { dryRun: false, withoutState: true, clients })).rejects.toThrow(/gc cannot see live jobs \(--without-state\).*pass --min-age/);
    const report = await gcStage(reaper.ctx, { dryRun: false, withoutState: true, minAgeSeconds: 3 * 3600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('overdue'), arn('untagged-old'), arn('garbled-tag')]);
    expect(report.kept).toEqual([arn('long-job'), arn('untagged-young')]);
    expect(report.removedStates).toEqual([]);
    expect(readdirSync(reaper.stateDir)).toEqual([basename(jobStatePath(reaper.ctx))]);
  });

  it('treats a configured directory that does not exist here like none', async () => {
    const elsewhere = testContext();
    const missing = testContext({ toml: `${noDirToml}[TaskMetadata]\nDirectory = "${join(elsewhere.stateDir, 'not-here')}"\n` });
    setup();
    await expect(gcStage(missing.ctx, { dryRun: true, clients })).rejects.toThrow(/not-here does not exist here/);
    const report = await gcStage(missing.ctx, { dryRun: true, minAgeSeconds: 3 * 3600, clients, now: () => NOW });
    expect(report.kept).toEqual([arn('long-job'), arn('untagged-young')]);
  });
});
