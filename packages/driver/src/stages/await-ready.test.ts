import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { SshConnectError } from '../ssh/connect.js';
import type { Transport } from '../ssh/transport.js';
import { secondsToMs } from '../duration.js';
import { awaitReady, stopWatchPollMs } from './await-ready.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const RUNNING = {
  taskArn: ARN,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '10.0.3.7' }] }],
};

/** A task that runs but whose SSH port never answers (a security group dropping the packets), on a fake clock. */
async function neverAnswering(securityGroups: string): Promise<Error> {
  const toml = `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job:3"\n${securityGroups}\n[SSH]\nPort = 2222\n`;
  const { ctx } = testContext({ toml });
  let clock = 0;
  const dropped: Transport = {
    connect: (target) => Promise.reject(new SshConnectError(target, 'timed out waiting for the SSH handshake')),
  };
  const error = await awaitReady({
    ecs: new ECSClient({ region: 'us-east-1' }),
    ec2: async () => new EC2Client({ region: 'us-east-1' }),
    transport: dropped,
    config: ctx.config,
    cluster: 'ci',
    taskArn: ARN,
    containerName: 'ci-coordinator',
    target: { port: 2222, username: 'root', privateKey: 'unused' },
    log: ctx.log,
    signal: new AbortController().signal,
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => clock,
    onAddress: () => {},
  }).then(
    () => new Error('expected the readiness wait to fail'),
    (reason: unknown) => reason as Error,
  );
  return error;
}

describe('awaitReady: a task that never answers SSH', () => {
  const ecsMock = mockClient(ECSClient);
  beforeEach(() => {
    ecsMock.reset();
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [RUNNING] });
  });
  afterAll(() => ecsMock.restore());

  it('names the address, the port and the configured security groups to check', async () => {
    const error = await neverAnswering('SecurityGroups = ["sg-0123456789abcdef0", "sg-1123456789abcdef0"]');
    expect(error.message).toMatch(/^the job container did not accept SSH within \d+ s \(\d+ attempts\); last error: .*timed out waiting for the SSH handshake\. /);
    expect(error.message).toMatch(
      /Check that the task's security groups sg-0123456789abcdef0, sg-1123456789abcdef0 \(\[Fargate\] SecurityGroups\) allow inbound TCP port 2222 from the runner manager to the task at 10\.0\.3\.7, and that the subnets' network ACLs and routes let that traffic through$/,
    );
  });

  it("points at the VPC's default group when no security group is configured", async () => {
    const error = await neverAnswering('');
    expect(error.message).toContain(
      "Check that the VPC's default security group (the task gets it because [Fargate] SecurityGroups is empty) allows inbound TCP port 2222",
    );
  });
});

describe('awaitReady: SSH answers before the poller sees RUNNING', () => {
  const ecsMock = mockClient(ECSClient);
  afterAll(() => ecsMock.restore());

  it('describes the task once more, so the timeline gets what ECS set since the last poll', async () => {
    const pending = { ...RUNNING, lastStatus: 'PENDING', pullStartedAt: new Date(1_000) };
    const activating = { ...pending, lastStatus: 'ACTIVATING', pullStoppedAt: new Date(2_000) };
    ecsMock.reset();
    ecsMock.on(DescribeTasksCommand).resolvesOnce({ tasks: [pending] }).resolves({ tasks: [activating] });
    const { ctx } = testContext();
    const answering: Transport = {
      connect: async () => ({ hostKey: 'AAAA', exec: () => Promise.reject(new Error('not used')), onClose: () => {}, close: () => {} }),
    };
    const seen: string[] = [];
    const ready = await awaitReady({
      ecs: new ECSClient({ region: 'us-east-1' }),
      ec2: async () => new EC2Client({ region: 'us-east-1' }),
      transport: answering,
      config: ctx.config,
      cluster: 'ci',
      taskArn: ARN,
      containerName: 'ci-coordinator',
      target: { port: 2222, username: 'root', privateKey: 'unused' },
      log: ctx.log,
      signal: new AbortController().signal,
      // The poller's next poll never comes: SSH answers first, as when sshd starts between two polls.
      sleep: (_ms, signal) => new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
      now: () => 0,
      onAddress: () => {},
      onTask: (task) => seen.push(`${task.lastStatus} pullStoppedAt=${task.pullStoppedAt?.toISOString() ?? '-'}`),
    });
    expect(ready.runningAt).toBeUndefined();
    expect(seen).toEqual(['PENDING pullStoppedAt=-', 'ACTIVATING pullStoppedAt=1970-01-01T00:00:02.000Z']);
  });
});

describe('awaitReady: while the SSH probe runs, the poller only watches for a stop', () => {
  const ecsMock = mockClient(ECSClient);
  afterAll(() => ecsMock.restore());

  it('polls DescribeTasks less often than TaskPollInterval once the probe has the address', async () => {
    ecsMock.reset();
    // PENDING with its address from the first answer: the image is still pulling, the probe starts at once.
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ ...RUNNING, lastStatus: 'PENDING' }] });
    const { ctx } = testContext();
    let clock = 0;
    let attempts = 0;
    // sshd answers on the 40th attempt (about 40 s of SSHPollInterval on the fake clock).
    const late: Transport = {
      connect: (target) => (++attempts < 40
        ? Promise.reject(new SshConnectError(target, 'connection refused'))
        : Promise.resolve({ hostKey: 'AAAA', exec: () => Promise.reject(new Error('not used')), onClose: () => {}, close: () => {} })),
    };
    const pollerPauses: number[] = [];
    const taskPollMs = secondsToMs(ctx.config.timeouts.taskPollInterval);
    await awaitReady({
      ecs: new ECSClient({ region: 'us-east-1' }),
      ec2: async () => new EC2Client({ region: 'us-east-1' }),
      transport: late,
      config: ctx.config,
      cluster: 'ci',
      taskArn: ARN,
      containerName: 'ci-coordinator',
      target: { port: 2222, username: 'root', privateKey: 'unused' },
      log: ctx.log,
      signal: new AbortController().signal,
      sleep: async (ms) => {
        if (ms === taskPollMs || ms === stopWatchPollMs(taskPollMs)) pollerPauses.push(ms);
        clock += ms;
        await new Promise((resolve) => setImmediate(resolve));
      },
      now: () => clock,
      onAddress: () => {},
    });
    expect(pollerPauses.length).toBeGreaterThan(2);
    expect(new Set(pollerPauses)).toEqual(new Set([stopWatchPollMs(taskPollMs)]));
  });

  it('stretches the default 2 s to 5 s, and never polls more often than TaskPollInterval', () => {
    expect(stopWatchPollMs(2_000)).toBe(5_000);
    expect(stopWatchPollMs(500)).toBe(1_250);
    expect(stopWatchPollMs(10_000)).toBe(10_000);
  });
});
