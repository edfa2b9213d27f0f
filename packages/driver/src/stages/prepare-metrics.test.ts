import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { readState } from '../job/state.js';
import type { Connection, Transport } from '../ssh/transport.js';
import { jobStatePath } from './context.js';
import { prepareStage } from './prepare.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const T0 = Date.parse('2026-12-03T04:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);
const ENI = { attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '10.0.0.7' }] }] };
/** The task as ECS describes it: Spot, ARM, 2 vCPU / 4 GB / 30 GiB. */
const TASK: Task = {
  taskArn: ARN,
  cpu: '2048',
  memory: '4096',
  ephemeralStorage: { sizeInGiB: 30 },
  capacityProviderName: 'FARGATE_SPOT',
  attributes: [{ name: 'ecs.cpu-architecture', value: 'arm64' }],
  createdAt: at(0.6),
  desiredStatus: 'RUNNING',
};

/** An sshd that answers at once with a fixed host key. */
const answering: Transport = {
  connect: async () => ({ hostKey: 'AAAAC3NzaC1lZDI1NTE5AAAAIHostKey', exec: async () => ({ cancelled: false, lost: false, exitCode: 0 }), onClose: () => {}, close: () => {} }) as Connection,
};

beforeEach(() => ecsMock.reset());

describe('prepare records what the timeline, cost and metrics need', () => {
  it("ECS's timestamps from its polls, the size and placement as ECS reports them, and the driver's milestones", async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ ...TASK, lastStatus: 'PROVISIONING' }] });
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [{ ...TASK, lastStatus: 'PENDING', pullStartedAt: at(2.7) }] })
      .resolves({ tasks: [{ ...TASK, ...ENI, lastStatus: 'RUNNING', pullStartedAt: at(2.7), pullStoppedAt: at(6.1), startedAt: at(6.9), containers: [{ name: 'ci-coordinator', lastStatus: 'RUNNING' }] }] });
    let clock = T0;
    const { ctx } = testContext();
    await prepareStage(ctx, { clients, transport: answering, now: () => (clock += 100), sleep: async () => {} });
    const metrics = readState(jobStatePath(ctx))?.metrics;
    expect(metrics).toMatchObject({
      taskCreatedAt: at(0.6).toISOString(),
      pullStartedAt: at(2.7).toISOString(),
      pullStoppedAt: at(6.1).toISOString(),
      taskStartedAt: at(6.9).toISOString(),
      cpu: 2048,
      memoryMiB: 4096,
      ephemeralGiB: 30,
      capacity: 'FARGATE_SPOT',
      architecture: 'ARM64',
    });
    for (const key of ['runTaskSentAt', 'runTaskReturnedAt', 'runningSeenAt', 'readyAt'] as const) expect(Date.parse(metrics?.[key] as string)).toBeGreaterThan(T0);
    expect(metrics?.outcome).toBeUndefined();
  });

  it('a task that stops during start-up: the failure and its reason, with what was seen', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ ...TASK, lastStatus: 'PROVISIONING' }] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ ...TASK, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', pullStartedAt: at(2.7), stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError' }] });
    ecsMock.on(StopTaskCommand).resolves({});
    const { ctx } = testContext();
    await expect(prepareStage(ctx, { clients, transport: answering, sleep: async () => {} })).rejects.toThrow(/CannotPullContainerError/);
    const metrics = readState(jobStatePath(ctx))?.metrics;
    expect(metrics).toMatchObject({ outcome: { kind: 'system_failure', stage: 'prepare', reason: 'task_stopped' }, pullStartedAt: at(2.7).toISOString(), cpu: 2048 });
  });
});
