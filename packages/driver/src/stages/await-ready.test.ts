import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { getEventListeners } from 'node:events';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { SshConnectError } from '../ssh/connect.js';
import type { Connection, Transport } from '../ssh/transport.js';
import type { Sleep } from '../sleep.js';
import { type AwaitReadyInput, awaitReady } from './await-ready.js';
import type { StageContext } from './context.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const RUNNING = {
  taskArn: ARN,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '10.0.3.7' }] }],
};

/** A connection whose sshd answered: the readiness wait only needs it to exist. */
const ANSWERED: Connection = { hostKey: 'AAAA', exec: () => Promise.reject(new Error('not used')), onClose: () => {}, close: () => {} };

/** A readiness wait on the test task ({@link ARN}, cluster `ci`) with `ctx`'s config and log; `parts` say the rest. */
function readyInput(
  ctx: StageContext,
  port: number,
  parts: Pick<AwaitReadyInput, 'transport' | 'sleep' | 'now'> & Partial<AwaitReadyInput>,
): AwaitReadyInput {
  return {
    ecs: new ECSClient({ region: 'us-east-1' }),
    ec2: async () => new EC2Client({ region: 'us-east-1' }),
    config: ctx.config,
    cluster: 'ci',
    taskArn: ARN,
    containerName: 'ci-coordinator',
    target: { port, username: 'root', privateKey: 'unused' },
    log: ctx.log,
    signal: new AbortController().signal,
    onAddress: () => {},
    ...parts,
  };
}

/** A task that runs but whose SSH port never answers (a security group dropping the packets), on a fake clock. */
async function neverAnswering(securityGroups: string): Promise<Error> {
  const toml = `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job:3"\n${securityGroups}\n[SSH]\nPort = 2222\n`;
  const { ctx } = testContext({ toml });
  let clock = 0;
  const dropped: Transport = {
    connect: (target) => Promise.reject(new SshConnectError(target, 'timed out waiting for the SSH handshake')),
  };
  const error = await awaitReady(
    readyInput(ctx, 2222, {
      transport: dropped,
      sleep: async (ms) => {
        clock += ms;
      },
      now: () => clock,
    }),
  ).then(
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
    const seen: string[] = [];
    let pauses = 0;
    const ready = await awaitReady(
      readyInput(ctx, 2222, {
        transport: { connect: async () => ANSWERED },
        // The pause before the first poll ends; the next poll never comes: SSH answers first, as when sshd starts
        // between two polls.
        sleep: (_ms, signal) =>
          pauses++ === 0
            ? Promise.resolve()
            : new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
        now: () => 0,
        onTask: (task) => seen.push(`${task.lastStatus} pullStoppedAt=${task.pullStoppedAt?.toISOString() ?? '-'}`),
      }),
    );
    expect(ready.runningAt).toBeUndefined();
    expect(seen).toEqual(['PENDING pullStoppedAt=-', 'ACTIVATING pullStoppedAt=1970-01-01T00:00:02.000Z']);
  });
});


/**
 * Virtual time for everything that sleeps in a readiness wait (the poller and the SSH probe at once): each sleep is a
 * timer, and `run` moves the clock to the earliest one only once every other promise chain has settled.
 */
function virtualTime() {
  let clock = 0;
  let timers: { at: number; wake: () => void }[] = [];
  const sleep: Sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        timers = timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      // A woken sleep lets go of the signal: the probe sleeps hundreds of times on one, which would otherwise pile up
      // listeners (MaxListenersExceededWarning).
      const timer = { at: clock + ms, wake: () => (signal?.removeEventListener('abort', onAbort), resolve()) };
      timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  async function run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(() => (settled = true), () => (settled = true));
    while (!settled) {
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      if (settled || timers.length === 0) continue;
      const next = timers.reduce((a, b) => (b.at < a.at ? b : a));
      timers = timers.filter((t) => t !== next);
      clock = Math.max(clock, next.at);
      next.wake();
    }
    return work;
  }
  return { now: () => clock, sleep, run };
}

describe('virtualTime', () => {
  it('leaves no abort listener behind once a sleep wakes', async () => {
    const time = virtualTime();
    const signal = new AbortController().signal;
    await time.run((async () => {
      for (let i = 0; i < 20; i++) await time.sleep(1_000, signal);
    })());
    expect(time.now()).toBe(20_000);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});

/** The driver's default intervals (TaskPollInterval 2 s, SSHPollInterval 1 s). */
const DEFAULT_INTERVALS_TOML = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job:3"\n';

describe('awaitReady: DescribeTasks while a task starts', () => {
  const ecsMock = mockClient(ECSClient);
  afterAll(() => ecsMock.restore());
  const PROVISIONING = { taskArn: ARN, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' };
  const PENDING = { ...RUNNING, lastStatus: 'PENDING' };

  /**
   * A start whose address appears after 10 s (PENDING) and whose sshd answers after `readySeconds`, or never; until then
   * each connection attempt fails with `refusal` (after its timeout when `timesOut`, as packets a security group drops).
   */
  function start(
    time: ReturnType<typeof virtualTime>,
    readySeconds: number,
    describe: () => object,
    { toml = DEFAULT_INTERVALS_TOML, refusal = 'connection refused', timesOut = false } = {},
  ) {
    ecsMock.reset();
    const polledAt: number[] = [];
    ecsMock.on(DescribeTasksCommand).callsFake(() => {
      polledAt.push(time.now());
      return describe();
    });
    const { ctx } = testContext({ toml });
    const transport: Transport = {
      connect: (target, options) => (time.now() < readySeconds * 1_000
        ? time.sleep(timesOut ? (options?.timeoutMs ?? 0) : 0).then(() => Promise.reject(new SshConnectError(target, refusal)))
        : Promise.resolve(ANSWERED)),
    };
    const waiting = awaitReady(readyInput(ctx, 22, { transport, sleep: time.sleep, now: time.now, onTask: () => {} }));
    return { waiting: time.run(waiting), polledAt };
  }

  it('polls first after TaskPollInterval, then less and less often: a 55 s start costs 10 calls, not 16', async () => {
    const time = virtualTime();
    const { waiting, polledAt } = start(time, 55, () => ({ tasks: [time.now() < 10_000 ? PROVISIONING : PENDING] }));
    await waiting;
    // RunTask's answer already described the task: the first poll comes one TaskPollInterval later.
    expect(polledAt[0]).toBe(2_000);
    // Polls at 2, 4, 6, 9 and 13.5 s (the address), then after half the time waited, at most 10 s: 20.25, 30.25, 40.25,
    // 50.25; the last call is the look after SSH answered (55.5 s). A poll every 2 s until the address and every 5 s
    // after it made 16.
    expect(polledAt).toHaveLength(10);
    const pauses = polledAt.slice(1, -1).map((at, i) => at - polledAt[i]!);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(10_000);
  });

  it('keeps to TaskPollInterval with UsePublicIP, where the poller alone sees the task become usable', async () => {
    const time = virtualTime();
    const ec2Mock = mockClient(EC2Client);
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [{ Association: { PublicIp: '203.0.113.7' } }] });
    const eni = { type: 'ElasticNetworkInterface', details: [{ name: 'networkInterfaceId', value: 'eni-0123456789abcdef0' }, ...RUNNING.attachments[0]!.details] };
    const running = { ...RUNNING, attachments: [eni] };
    const { waiting, polledAt } = start(time, 0, () => ({ tasks: [time.now() < 20_000 ? { ...running, lastStatus: 'PENDING' } : running] }),
      { toml: `${DEFAULT_INTERVALS_TOML}UsePublicIP = true\n` });
    try {
      await expect(waiting).resolves.toMatchObject({ address: '203.0.113.7' });
    } finally {
      ec2Mock.restore();
    }
    expect(polledAt).toEqual([2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, 18_000, 20_000]);
  });

  it('still reports a task that stops while the SSH probe waits, with ECS\'s reason, within 10 s', async () => {
    const time = virtualTime();
    const stopped = {
      ...PENDING, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
    };
    const { waiting } = start(time, Number.POSITIVE_INFINITY, () => ({ tasks: [time.now() < 40_000 ? PENDING : stopped] }));
    await expect(waiting).rejects.toThrow(/stopCode TaskFailedToStart; reason: CannotPullContainerError: pull image manifest/);
    expect(time.now()).toBeGreaterThanOrEqual(40_000);
    expect(time.now()).toBeLessThanOrEqual(50_000);
  });

  /** PENDING with the address from 10 s, RUNNING from 30 s (the poller sees it at 30.25 s). */
  const runningFrom30s = (time: ReturnType<typeof virtualTime>) => () => ({
    tasks: [time.now() < 10_000 ? PROVISIONING : time.now() < 30_000 ? PENDING : RUNNING],
  });

  it('gives sshd SSHReady from RUNNING even when the probe started earlier, and names what to check', async () => {
    const time = virtualTime();
    // A security group without the inbound rule: every attempt times out, and would for TaskStart + SSHReady.
    const { waiting } = start(time, Number.POSITIVE_INFINITY, runningFrom30s(time), { refusal: 'connect ETIMEDOUT 10.0.3.7:22', timesOut: true });
    const error = await waiting.then(() => new Error('expected the readiness wait to fail'), (reason: unknown) => reason as Error);
    expect(error.message).toMatch(/^the job container did not accept SSH within 120 s \(\d+ attempts\); last error: .*connect ETIMEDOUT 10\.0\.3\.7:22\. /);
    expect(error.message).toMatch(/Check that the VPC's default security group .* allows inbound TCP port 22 from the runner manager to the task at 10\.0\.3\.7, /);
    // RUNNING seen at 30.25 s, plus SSHReady (120 s): not TaskStart (600 s) + SSHReady after the address.
    expect(time.now()).toBe(150_250);
  });

  it('still returns at once when the early probe answers before RUNNING', async () => {
    const time = virtualTime();
    const { waiting } = start(time, 20, runningFrom30s(time));
    const ready = await waiting;
    expect(ready.runningAt).toBeUndefined();
    expect(time.now()).toBeLessThan(21_000);
  });

  it('lets the early probe answer after RUNNING, within SSHReady', async () => {
    const time = virtualTime();
    const { waiting } = start(time, 100, runningFrom30s(time));
    const ready = await waiting;
    expect(ready.runningAt).toBe(30_250);
    expect(time.now()).toBeLessThan(101_000);
  });
});
