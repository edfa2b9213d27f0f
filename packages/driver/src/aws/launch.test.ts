import {
  AccessDeniedException,
  ClientException,
  ECSClient,
  InvalidParameterException,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SystemFailure } from '../errors.js';
import { readFailure } from './failures.js';
import { type LaunchPlan, LaunchFailed, clientToken, launchTask, stopTask } from './launch.js';

const ecs = new ECSClient({ region: 'us-east-1' });
/** Mocks this one client only: the cancel test below talks HTTP to a real endpoint with its own client. */
const ecsMock = mockClient(ecs);
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';

function plan(overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  return {
    cluster: 'ci',
    taskDefinition: 'ci-job:3',
    subnets: ['subnet-0a1b2c3d', 'subnet-1a1b2c3d'],
    securityGroups: ['sg-0a1b2c3d', 'sg-1a1b2c3d'],
    assignPublicIp: false,
    placement: { kind: 'launchType' },
    onDemandFallback: true,
    containerName: 'ci-coordinator',
    environment: { SSH_PUBLIC_KEY: 'ssh-ed25519 AAAA test' },
    tags: { team: 'ci', 'gitlab-fargate:job-id': '42' },
    propagateTags: 'TASK_DEFINITION',
    enableEcsManagedTags: true,
    enableExecuteCommand: false,
    startedBy: 'gitlab-fargate/abc123xyz',
    clientTokenSeed: 'abc123xyz\u000042\u0000/tmp/custom-executor1',
    ...overrides,
  };
}

function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
}

/** Records the pauses instead of sleeping. */
function fakeSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

const SPOT = { kind: 'strategy', strategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }] } as const;

beforeEach(() => ecsMock.reset());

describe('launchTask', () => {
  it('sends one RunTask with launch type FARGATE, every subnet and group, tags, startedBy and a deterministic client token', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'PROVISIONING' }], failures: [] });
    const result = await launchTask(ecs, plan({ cpu: '1024', memory: '4096', ephemeralStorageGiB: 50 }));
    expect(result.task.taskArn).toBe(TASK_ARN);
    expect(result.attempts).toBe(1);
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(RunTaskCommand, {
      cluster: 'ci',
      taskDefinition: 'ci-job:3',
      count: 1,
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0a1b2c3d', 'subnet-1a1b2c3d'],
          securityGroups: ['sg-0a1b2c3d', 'sg-1a1b2c3d'],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: 'ci-coordinator', environment: [{ name: 'SSH_PUBLIC_KEY', value: 'ssh-ed25519 AAAA test' }] }],
        cpu: '1024',
        memory: '4096',
        ephemeralStorage: { sizeInGiB: 50 },
      },
      tags: [
        { key: 'team', value: 'ci' },
        { key: 'gitlab-fargate:job-id', value: '42' },
      ],
      propagateTags: 'TASK_DEFINITION',
      enableECSManagedTags: true,
      startedBy: 'gitlab-fargate/abc123xyz',
      clientToken: clientToken(plan().clientTokenSeed, 1, { kind: 'launchType' }),
    });
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.capacityProviderStrategy).toBeUndefined();
    expect(input.clientToken!.length).toBeLessThanOrEqual(64);
  });

  it('uses a capacity-provider strategy instead of a launch type, and assigns a public IP only when asked', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    await launchTask(ecs, plan({ placement: SPOT, assignPublicIp: true }));
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.launchType).toBeUndefined();
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }]);
    expect(input.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('ENABLED');
  });

  it('reports a non-capacity failure in words without retrying (AGENT)', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ arn: 'arn:aws:ecs:…:container-instance/x', reason: 'AGENT' }] });
    const promise = launchTask(ecs, plan(), { sleep: fakeSleep().sleep });
    await expect(promise).rejects.toBeInstanceOf(LaunchFailed);
    await expect(promise).rejects.toThrow(/ECS agent that should run the task is not connected .*\[AGENT\]/);
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 1);
  });

  it('retries capacity failures (RESOURCE:FARGATE) with growing backoff and a new client token each time', async () => {
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: 'RESOURCE:FARGATE' }] })
      .resolvesOnce({ tasks: [], failures: [{ reason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone' }] })
      .resolves({ tasks: [{ taskArn: TASK_ARN }] });
    const { sleep, delays } = fakeSleep();
    const progress: string[] = [];
    const result = await launchTask(ecs, plan(), { sleep, baseDelayMs: 1_000, progress: (l) => progress.push(l) });
    expect(result.attempts).toBe(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[0]).toBeLessThanOrEqual(1_000);
    expect(delays[1]).toBeGreaterThanOrEqual(1_000);
    expect(delays[1]).toBeLessThanOrEqual(2_000);
    const tokens = ecsMock.commandCalls(RunTaskCommand).map((c) => c.args[0].input.clientToken);
    expect(new Set(tokens).size).toBe(3);
    expect(progress[0]).toMatch(/not enough FARGATE capacity .*retrying in \d+\.\d s \(attempt 2 of 6\)/);
  });

  it('gives up after the last attempt, with the last reason', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: "You've reached the limit on the number of vCPUs you can run concurrently" }] });
    const { sleep } = fakeSleep();
    await expect(launchTask(ecs, plan(), { sleep, maxAttempts: 3 })).rejects.toThrow(
      /did not start a task after 3 attempts; last reason: the account's Fargate concurrency quota is used up/,
    );
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 3);
  });

  it('stops retrying capacity failures when the next pause would pass the deadline, naming the reason', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone' }] });
    const { sleep, delays } = fakeSleep();
    let clock = 0;
    const promise = launchTask(ecs, plan(), {
      sleep: async (ms) => { clock += ms; await sleep(ms); },
      now: () => clock,
      baseDelayMs: 1_000,
      deadlineMs: 2_500,
    });
    await expect(promise).rejects.toThrow(/did not start a task within 3 s \(\[Timeouts\] TaskStart, \d attempts?\); last reason: .*Capacity is unavailable/);
    expect(delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2_500);
  });

  it('lets a RunTask in flight finish when the job is cancelled, so the task it started is known and can be stopped', async () => {
    const controller = new AbortController();
    // The cancel arrives while the real SDK's HTTP request is in flight, and the answer only after it: a call that
    // passed the signal to the SDK would be aborted here and lose the task.
    const endpoint = await ecsEndpoint(() => {
      controller.abort(new SystemFailure('cancelled by SIGTERM'));
      return { tasks: [{ taskArn: TASK_ARN, lastStatus: 'PROVISIONING' }], failures: [] };
    });
    try {
      const real = new ECSClient({ region: 'us-east-1', endpoint: endpoint.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
      const result = await launchTask(real, plan(), { sleep: fakeSleep().sleep, signal: controller.signal });
      expect(controller.signal.aborted).toBe(true);
      expect(result.task.taskArn).toBe(TASK_ARN);
      expect(endpoint.targets).toEqual(['AmazonEC2ContainerServiceV20141113.RunTask']);
    } finally {
      endpoint.close();
    }
  });

  it('reports the cancel, not the SDK error, when a retry is cut short by it', async () => {
    const controller = new AbortController();
    ecsMock.on(RunTaskCommand).callsFake(() => {
      controller.abort(new SystemFailure('cancelled by SIGTERM'));
      throw throttling();
    });
    await expect(launchTask(ecs, plan(), { sleep: fakeSleep().sleep, signal: controller.signal })).rejects.toThrow('cancelled by SIGTERM');
  });

  it('retries ThrottlingException with the same client token (a task started before the error is not doubled)', async () => {
    ecsMock.on(RunTaskCommand).rejectsOnce(throttling()).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    const { sleep, delays } = fakeSleep();
    const result = await launchTask(ecs, plan(), { sleep });
    expect(result.attempts).toBe(2);
    expect(delays).toHaveLength(1);
    const [first, second] = ecsMock.commandCalls(RunTaskCommand).map((c) => c.args[0].input.clientToken);
    expect(second).toBe(first);
  });

  it('gives up on an unreachable endpoint after a few errors in a row', async () => {
    ecsMock.on(RunTaskCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'Error', code: 'ECONNREFUSED' }));
    const { sleep, delays } = fakeSleep();
    await expect(launchTask(ecs, plan(), { sleep })).rejects.toThrow(/RunTask failed 3 times in a row: connect ECONNREFUSED/);
    expect(delays).toHaveLength(2);
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 3);
  });

  it('falls back from FARGATE_SPOT to on-demand FARGATE at once when Spot has no capacity', async () => {
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone' }] })
      .resolves({ tasks: [{ taskArn: TASK_ARN }] });
    const { sleep, delays } = fakeSleep();
    const progress: string[] = [];
    const result = await launchTask(ecs, plan({ placement: SPOT }), { sleep, progress: (l) => progress.push(l) });
    expect(result.placement).toEqual({ kind: 'launchType' });
    expect(delays).toEqual([]);
    const [first, second] = ecsMock.commandCalls(RunTaskCommand).map((c) => c.args[0].input);
    expect(first!.capacityProviderStrategy?.[0]?.capacityProvider).toBe('FARGATE_SPOT');
    expect(second!.launchType).toBe('FARGATE');
    expect(second!.capacityProviderStrategy).toBeUndefined();
    expect(progress[0]).toMatch(/No Spot capacity .*trying on-demand FARGATE instead/);
  });

  it('stays on Spot (with backoff) when the fallback is off', async () => {
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: 'RESOURCE:FARGATE' }] })
      .resolves({ tasks: [{ taskArn: TASK_ARN }] });
    const { sleep, delays } = fakeSleep();
    const result = await launchTask(ecs, plan({ placement: SPOT, onDemandFallback: false }), { sleep });
    expect(result.placement).toEqual(SPOT);
    expect(delays).toHaveLength(1);
    expect(ecsMock.commandCalls(RunTaskCommand)[1]!.args[0].input.capacityProviderStrategy).toBeDefined();
  });

  it('does not retry a refused request, and says what to check', async () => {
    ecsMock.on(RunTaskCommand).rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
    await expect(launchTask(ecs, plan())).rejects.toThrow(
      /RunTask failed: ClientException: Unable to describe task definition\. \(check the task definition name/,
    );
    expect(ecsMock).toHaveReceivedCommandTimes(RunTaskCommand, 1);

    ecsMock.reset();
    ecsMock.on(RunTaskCommand).rejects(new AccessDeniedException({ message: 'User x is not authorized to perform: ecs:TagResource', $metadata: {} }));
    await expect(launchTask(ecs, plan())).rejects.toThrow(/ecs:TagResource when tags are set/);
  });
});

/**
 * An ECS JSON endpoint on loopback that answers every call with `answer()`'s result, computed when the request
 * arrived; `targets` records the `X-Amz-Target` of each call.
 */
async function ecsEndpoint(answer: () => unknown): Promise<{ readonly url: string; readonly targets: string[]; close(): void }> {
  const targets: string[] = [];
  const server = createServer((request, response) => {
    targets.push(String(request.headers['x-amz-target']));
    request.resume();
    request.once('end', () => {
      const body = JSON.stringify(answer());
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

describe('readFailure', () => {
  it('tells capacity from quota from permanent failures', () => {
    expect(readFailure({ reason: 'RESOURCE:FARGATE' })).toMatchObject({ retryable: true, capacity: true });
    expect(readFailure({ reason: 'The requested CPU configuration is above your limit' })).toMatchObject({ retryable: false });
    expect(readFailure({ reason: 'MISSING', detail: 'subnet-x' }).text).toContain('[MISSING (subnet-x)]');
    expect(readFailure({ reason: 'something new' })).toEqual({ retryable: false, capacity: false, text: 'something new' });
  });
});

describe('stopTask', () => {
  const target = { cluster: 'ci', taskArn: TASK_ARN, reason: 'gitlab-fargate: job 42 finished (cleanup)' };

  it('sends the reason and retries throttling', async () => {
    ecsMock.on(StopTaskCommand).rejectsOnce(throttling()).rejectsOnce(throttling()).resolves({ task: { taskArn: TASK_ARN } });
    const { sleep, delays } = fakeSleep();
    await expect(stopTask(ecs, target, { sleep })).resolves.toBe('stopped');
    expect(delays).toHaveLength(2);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: TASK_ARN, reason: target.reason });
  });

  it('counts a task ECS no longer knows as stopped', async () => {
    ecsMock.on(StopTaskCommand).rejects(new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} }));
    await expect(stopTask(ecs, target)).resolves.toBe('already-gone');
  });

  it('fails on a permanent error, and when the deadline runs out', async () => {
    ecsMock.on(StopTaskCommand).rejects(new AccessDeniedException({ message: 'not authorized to perform: ecs:StopTask', $metadata: {} }));
    await expect(stopTask(ecs, target)).rejects.toBeInstanceOf(SystemFailure);

    ecsMock.reset();
    ecsMock.on(StopTaskCommand).rejects(throttling());
    let clock = 0;
    const sleep = async (ms: number) => void (clock += ms);
    await expect(stopTask(ecs, target, { sleep, now: () => clock, deadlineMs: 5_000 })).rejects.toThrow(/StopTask .* failed: ThrottlingException: Rate exceeded/);
    expect(clock).toBeLessThanOrEqual(5_000);
  });
});
