import { existsSync } from 'node:fs';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { readState, writeState } from '../job/state.js';
import { jobStatePath } from './context.js';
import { gcStage } from './gc.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${id}`;
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const minutesAgo = (m: number) => new Date(NOW - m * 60_000);

beforeEach(() => ecsMock.reset());

describe('gc', () => {
  function setup() {
    const job = testContext();
    // Job 42 is alive and owns task "live".
    writeState(jobStatePath(job.ctx), {
      version: 1,
      jobId: '42',
      runnerShortToken: 'abc123xyz',
      cluster: 'ci',
      taskArn: arn('live'),
      port: 22,
      username: 'root',
      privateKey: 'k',
      publicKey: 'p',
      createdAt: minutesAgo(60).toISOString(),
    });
    ecsMock
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [arn('live'), arn('orphan')], nextToken: 'page2' })
      .resolves({ taskArns: [arn('young'), arn('stopping')] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: arn('live'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING' },
        { taskArn: arn('orphan'), createdAt: minutesAgo(60), desiredStatus: 'RUNNING' },
        { taskArn: arn('young'), createdAt: minutesAgo(1), desiredStatus: 'RUNNING' },
        { taskArn: arn('stopping'), createdAt: minutesAgo(60), desiredStatus: 'STOPPED' },
      ],
    });
    ecsMock.on(StopTaskCommand).resolves({});
    return job;
  }

  it("stops only this runner's old tasks that no live job owns", async () => {
    const job = setup();
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report).toEqual({ stopped: [arn('orphan')], kept: [arn('live'), arn('young'), arn('stopping')] });
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, { cluster: 'ci', startedBy: 'gitlab-fargate/abc123xyz' });
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, { nextToken: 'page2' });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: arn('orphan'), reason: 'gitlab-fargate gc: no live job owns this task' });
  });

  it('stops the task of a state whose job cannot still run (its runner died before cleanup) and removes that state', async () => {
    const job = setup();
    const path = jobStatePath(job.ctx);
    writeState(path, { ...readState(path)!, expiresAt: minutesAgo(1).toISOString() });
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('live'), arn('orphan')]);
    expect(existsSync(path)).toBe(false);
    expect(job.progress.lines.join('\n')).toMatch(/removed the stale state of job 42/);
  });

  it('keeps the task of a state that has not expired yet', async () => {
    const job = setup();
    const path = jobStatePath(job.ctx);
    writeState(path, { ...readState(path)!, expiresAt: new Date(NOW + 60_000).toISOString() });
    const report = await gcStage(job.ctx, { dryRun: false, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('orphan')]);
    expect(existsSync(path)).toBe(true);
  });

  it('stops nothing in a dry run', async () => {
    const job = setup();
    const report = await gcStage(job.ctx, { dryRun: true, minAgeSeconds: 600, clients, now: () => NOW });
    expect(report.stopped).toEqual([arn('orphan')]);
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
    expect(job.progress.lines[0]).toMatch(/would stop .*orphan \(no live job, 3600 s old\)/);
  });

  it('without a visible state directory, stops by age only, and only when the age is given', async () => {
    const noDir = testContext({ toml: '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "x"\n' });
    await expect(gcStage(noDir.ctx, { dryRun: true, clients })).rejects.toThrow(/gc cannot see live jobs \(no \[TaskMetadata\] Directory\).*pass --min-age/);
    expect(ecsMock.calls()).toHaveLength(0);

    setup();
    const report = await gcStage(noDir.ctx, { dryRun: false, minAgeSeconds: 3 * 3600, clients, now: () => NOW });
    expect(report.stopped).toEqual([]);
    ecsMock.reset();
    setup();
    const older = await gcStage(noDir.ctx, { dryRun: false, minAgeSeconds: 1800, clients, now: () => NOW });
    // "live" is stopped too: without the state files nothing shows a job owns it, only its age.
    expect(older.stopped).toEqual([arn('live'), arn('orphan')]);
    expect(noDir.progress.lines[0]).toBe('gc: no job state here; stopping only tasks older than 10800 s\n');
  });

  it('refuses to guess without a runner token', async () => {
    const noToken = testContext({ env: { CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: '' } });
    await expect(gcStage(noToken.ctx, { dryRun: true, minAgeSeconds: 0, clients })).rejects.toThrow(/gc needs CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN/);
    expect(ecsMock.calls()).toHaveLength(0);
  });
});
