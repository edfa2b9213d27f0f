import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { OverrideRefused } from '../errors.js';
import { readState, stateStem, writeState } from '../job/state.js';
import { createLogger, memorySink } from '../log.js';
import { jobStatePath } from './context.js';
import { prepareStage } from './prepare.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const noSleep = async () => {};

beforeEach(() => ecsMock.reset());

describe('prepare (AWS failure paths)', () => {
  it('refuses a state directory that others may write, before any AWS call', async () => {
    const { ctx, stateDir } = testContext();
    mkdirSync(stateDir, { mode: 0o700 });
    chmodSync(stateDir, 0o777);
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(
      new RegExp(`refusing the job state directory ${stateDir} \\(owner uid \\d+, mode 0777\\): it is writable by group or others\\..*chmod 700 ${stateDir}`),
    );
    expect(ecsMock.calls()).toHaveLength(0);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('refuses a job override before any AWS call or state file', async () => {
    const { ctx } = testContext({ env: { CUSTOM_ENV_FARGATE_TASK_DEFINITION: 'prod-admin' } });
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toBeInstanceOf(OverrideRefused);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(readState(jobStatePath(ctx))).toBeUndefined();
  });

  it('records the task before saying it was created and before waiting, and stops it with a reason when it dies during start-up', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: ARN, lastStatus: 'PROVISIONING' }] });
    const job = testContext();
    const { progress } = job;
    // What the state file says when the job log announces the task: a runner killed right then still has cleanup stop it.
    const recordedWhenAnnounced: (string | undefined)[] = [];
    const ctx = {
      ...job.ctx,
      log: createLogger({
        sink: memorySink(),
        progress: {
          write: (line: string) => {
            if (/^Task .* created/.test(line)) recordedWhenAnnounced.push(readState(jobStatePath(job.ctx))?.taskArn);
            progress.write(line);
          },
        },
      }),
    };
    // What the state file says while prepare waits for the task: cleanup (after a SIGKILL, say) reads exactly this.
    const recordedWhileWaiting: (string | undefined)[] = [];
    ecsMock.on(DescribeTasksCommand).callsFake(() => {
      recordedWhileWaiting.push(readState(jobStatePath(ctx))?.taskArn);
      return { tasks: [{ taskArn: ARN, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: not found' }] };
    });
    ecsMock.on(StopTaskCommand).resolves({});
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/stopCode TaskFailedToStart; reason: CannotPullContainerError: not found/);
    expect(recordedWhenAnnounced).toEqual([ARN]);
    expect(recordedWhileWaiting[0]).toBe(ARN);
    const state = readState(jobStatePath(ctx));
    expect(state?.taskArn).toBe(ARN);
    expect(state?.address).toBeUndefined();
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: ARN, reason: expect.stringMatching(/^gitlab-fargate: prepare failed for job 42: task .* stopped/) });
    expect(progress.lines.join('')).toMatch(/Task .* created \(on-demand FARGATE\)\n.*Task is STOPPED after 0\.0 s/);
  });

  it('stops the task when recording it right after RunTask fails', async () => {
    const { ctx, progress, logs } = testContext();
    const path = jobStatePath(ctx);
    ecsMock.on(RunTaskCommand).callsFake(() => {
      // The next write of the state file fails: its path is now a directory that rename cannot replace.
      rmSync(path);
      mkdirSync(path);
      writeFileSync(join(path, 'in-the-way'), '');
      return { tasks: [{ taskArn: ARN, lastStatus: 'PROVISIONING' }] };
    });
    ecsMock.on(StopTaskCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({});
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/cannot write the job state file/);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: ARN, reason: expect.stringMatching(/^gitlab-fargate: prepare failed for job 42: cannot write the job state file/) });
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTasksCommand, 0);
    expect(progress.lines.join('')).toMatch(new RegExp(`^Starting a Fargate task .*\\nPrepare failed: cannot write the job state file .*\\. Stopping task ${ARN}\\n$`));
    expect(logs.lines.join('')).not.toMatch(/could not stop/);
  });

  it('says gc is left to stop the task when neither recording nor stopping it worked', async () => {
    const { ctx, logs } = testContext();
    const path = jobStatePath(ctx);
    ecsMock.on(RunTaskCommand).callsFake(() => {
      rmSync(path);
      mkdirSync(path);
      writeFileSync(join(path, 'in-the-way'), '');
      return { tasks: [{ taskArn: ARN }] };
    });
    ecsMock.on(StopTaskCommand).rejects(Object.assign(new Error('not authorized to perform: ecs:StopTask'), { name: 'AccessDeniedException' }));
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/cannot write the job state file/);
    expect(logs.lines.join('')).toMatch(/could not stop task .* after the failed prepare \(no state file names it: gc stops it/);
  });

  it('tags the task with its deadline (start + job timeout + grace, whole seconds, UTC), the same instant the state expires', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'AGENT' }] });
    const { ctx } = testContext({ env: { CUSTOM_ENV_CI_JOB_TIMEOUT: '7200' } });
    const start = Date.UTC(2026, 11, 3, 1, 59, 59, 250);
    await expect(prepareStage(ctx, { clients, sleep: noSleep, now: () => start })).rejects.toThrow(/AGENT/);
    expect(ecsMock).toHaveReceivedCommandWith(RunTaskCommand, { tags: expect.arrayContaining([{ key: 'gitlab-fargate:deadline', value: '2026-12-03T05:00:00Z' }]) });
    expect(readState(jobStatePath(ctx))?.expiresAt).toBe('2026-12-03T05:00:00.000Z');
  });

  it('puts no deadline tag on a task whose job timeout is unknown, not even one from the configured tags', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'AGENT' }] });
    const parsed = testContext({ extra: '[Fargate.Tags]\nteam = "ci"' }).ctx;
    // The config file refuses the driver's own tag keys; a config built in code can still hold one.
    const configured = { ...parsed.config.fargate.tags, 'gitlab-fargate:deadline': '2099-01-01T00:00:00Z' };
    const ctx = { ...parsed, config: { ...parsed.config, fargate: { ...parsed.config.fargate, tags: configured } } };
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/AGENT/);
    const tags = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input.tags ?? [];
    expect(tags).toContainEqual({ key: 'team', value: 'ci' });
    expect(tags.map((t) => t.key)).not.toContain('gitlab-fargate:deadline');
    expect(readState(jobStatePath(ctx))?.expiresAt).toBeUndefined();
  });

  it("records when the job's state goes stale (start + job timeout + grace), for gc", async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: ARN, lastStatus: 'PROVISIONING' }] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: ARN, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart' }] });
    ecsMock.on(StopTaskCommand).resolves({});
    const { ctx } = testContext({ env: { CUSTOM_ENV_CI_JOB_TIMEOUT: '600' } });
    const start = Date.UTC(2026, 10, 28, 9, 0, 0);
    // The task's own stop, not a timeout or any other failure of prepare.
    await expect(prepareStage(ctx, { clients, sleep: noSleep, now: () => start })).rejects.toMatchObject({
      name: 'TaskStopped',
      message: `task ${ARN} stopped; stopCode TaskFailedToStart`,
    });
    const state = readState(jobStatePath(ctx));
    expect(state?.createdAt).toBe('2026-11-28T09:00:00.000Z');
    expect(state?.expiresAt).toBe('2026-11-28T10:10:00.000Z');
  });

  it('ends an early SSH probe as soon as the poller sees the task stop', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: ARN }] });
    const attached = { attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '127.0.0.1' }] }] };
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [{ taskArn: ARN, lastStatus: 'PENDING', desiredStatus: 'RUNNING', ...attached }] })
      .resolves({ tasks: [{ taskArn: ARN, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', ...attached }] });
    ecsMock.on(StopTaskCommand).resolves({});
    // Port 1: nothing listens, so the probe keeps retrying until the poller's verdict ends it.
    const { ctx, progress } = testContext({ sshPort: 1 });
    await expect(prepareStage(ctx, { clients, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) })).rejects.toThrow(
      /stopCode EssentialContainerExited; reason: Essential container in task exited/,
    );
    expect(progress.lines.join('')).toContain('Task address 127.0.0.1; waiting for SSH on port 1');
    expect(readState(jobStatePath(ctx))?.address).toBe('127.0.0.1');
  });

  it('stops the task under a fresh deadline when the job is cancelled while waiting', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: ARN }] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: ARN, lastStatus: 'PENDING', desiredStatus: 'RUNNING' }] });
    ecsMock.on(StopTaskCommand).resolves({});
    const controller = new AbortController();
    const { ctx } = testContext({ signal: controller.signal });
    let polls = 0;
    const sleep = async () => {
      if (++polls === 3) controller.abort(new Error('the stage cancelled by SIGTERM'));
    };
    await expect(prepareStage(ctx, { clients, sleep })).rejects.toThrow('the stage cancelled by SIGTERM');
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
  });

  it('stops a task left over from an earlier attempt of the same job before starting a new one', async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'AGENT' }] });
    const { ctx } = testContext();
    const leftover = 'arn:aws:ecs:us-east-1:123456789012:task/ci/leftover';
    writeState(jobStatePath(ctx), {
      version: 1, jobId: '42', runnerShortToken: 'abc123xyz', cluster: 'ci', region: 'us-east-1', taskArn: leftover,
      port: 22, username: 'root', privateKey: 'k', publicKey: 'p', createdAt: '2026-11-28T09:00:00.000Z',
    });
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/AGENT/);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: leftover, reason: 'gitlab-fargate: replaced by a new prepare of job 42' });
  });

  it("stops a pool task an earlier attempt of the same job claimed, removes its entry, and says why it goes cold", async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'AGENT' }] });
    const { ctx, progress } = testContext({ extra: '[[Pool]]\nName = "warm"\n' });
    const claimed = join(ctx.config.poolDefaults.directory!, 'warm', 'claimed');
    mkdirSync(claimed, { recursive: true, mode: 0o700 });
    const leftover = 'arn:aws:ecs:us-east-1:123456789012:task/ci/pooltask';
    const entry = {
      version: 1, pool: 'warm', poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: 'f', taskArn: leftover,
      port: 22, username: 'root', privateKey: 'K', publicKey: 'P', launchedAt: '2026-11-28T09:00:00.000Z', idleDeadline: 2_000_000_000,
    };
    writeFileSync(join(claimed, `pooltask.${stateStem('abc123xyz', '42')}.json`), JSON.stringify(entry), { mode: 0o600 });
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/AGENT/);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: leftover, reason: 'gitlab-fargate: replaced by a new prepare of job 42' });
    expect(readdirSync(claimed)).toEqual([]);
    expect(progress.lines.join('')).toContain('Cold start: no ready task in pool warm');
  });

  it.each([
    ['jobId', { jobId: '7' }, 'its jobId is "7", this job\'s is "42"'],
    ['runner', { runnerShortToken: 'other-runner' }, 'its runnerShortToken is "other-runner", this job\'s is "abc123xyz"'],
    ['cluster', { cluster: 'production' }, 'its cluster is "production", this job\'s is "ci"'],
    ['region', { region: 'eu-west-1' }, 'its region is "eu-west-1", this job\'s is "us-east-1"'],
  ])('leaves alone a task named by a leftover state of another %s', async (_what, other, why) => {
    ecsMock.on(StopTaskCommand).resolves({});
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'AGENT' }] });
    const { ctx, logs } = testContext();
    const foreign = 'arn:aws:ecs:us-east-1:123456789012:task/production/not-this-jobs';
    writeState(jobStatePath(ctx), {
      version: 1, jobId: '42', runnerShortToken: 'abc123xyz', cluster: 'ci', region: 'us-east-1', taskArn: foreign,
      port: 22, username: 'root', privateKey: 'k', publicKey: 'p', createdAt: '2026-11-28T09:00:00.000Z', ...other,
    });
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/AGENT/);
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
    expect(logs.lines.join('')).toContain(`not stopping task ${foreign}, named by the state file left at ${jobStatePath(ctx)}: ${why}; gc deals with it`);
  });

  it('applies allowed overrides and Spot to the RunTask request, tagging the job', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'The requested CPU configuration is above your limit' }] });
    const { ctx } = testContext({
      env: { CUSTOM_ENV_FARGATE_CPU: '2048', CUSTOM_ENV_FARGATE_MEMORY: '8192', CUSTOM_ENV_FARGATE_SPOT: 'true', CUSTOM_ENV_FARGATE_TASK_DEFINITION: 'ci-big:2' },
      extra: '[Overrides]\nTaskDefinitions = ["ci-*"]\nMaxCpu = 4096\nMaxMemory = 16384\nAllowSpot = true',
    });
    await expect(prepareStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/task size is above what this AWS account may run/);
    expect(ecsMock).toHaveReceivedCommandWith(RunTaskCommand, {
      taskDefinition: 'ci-big:2',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }],
      overrides: expect.objectContaining({ cpu: '2048', memory: '8192' }),
      tags: expect.arrayContaining([
        { key: 'gitlab-fargate:job-id', value: '42' },
        { key: 'gitlab-fargate:runner', value: 'abc123xyz' },
        { key: 'gitlab-fargate:project', value: 'group/project' },
      ]),
      startedBy: 'gitlab-fargate/abc123xyz',
    });
    // Nothing started, so nothing to stop; the state file has no task for cleanup to chase.
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
    expect(readState(jobStatePath(ctx))?.taskArn).toBeUndefined();
  });
});
