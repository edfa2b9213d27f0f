import { AccessDeniedException, CreateClusterCommand, DescribeTasksCommand, ListTasksCommand, RunTaskCommand, type ECSClient, type RunTaskCommandInput, type Task } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient, registerFargateTaskDefinition } from '../../test/support/clients.js';
import { ensureSshdImage } from '../../test/support/image.js';
import { newKeyPair, sshExec, sshExecWhenReady } from '../../test/support/ssh.js';
import { isRunning, isStopped, waitForTask } from '../../test/support/waiting.js';
import type { TaskStateChange } from '../config/options.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';
import { FAILURE_REASONS } from '../ecs/run-task.js';

const CLUSTER = 'faults';

describe('fault injection', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;
  const changes: TaskStateChange[] = [];
  const keys = newKeyPair();

  const control = async (path: string, body?: unknown) => {
    const res = await fetch(`${emu.endpoint}/_emulator/${path}`, { method: body === undefined ? 'GET' : 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const run = (input: Partial<RunTaskCommandInput> = {}) =>
    ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'sshd',
        launchType: 'FARGATE',
        networkConfiguration: awsvpc(),
        overrides: { containerOverrides: [{ name: 'ci-coordinator', environment: [{ name: 'SSH_PUBLIC_KEY', value: keys.publicKey }] }] },
        ...input,
      }),
    );
  const spot = { launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] };
  const historyOf = (task: Task) => changes.filter((c) => c.taskArn === task.taskArn);

  beforeAll(async () => {
    const image = ensureSshdImage();
    emu = await startEmulator({ onTaskStateChange: (change) => changes.push(change) });
    ecs = ecsClient(emu.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }));
    await registerFargateTaskDefinition(ecs, 'sshd', image);
  });

  afterAll(async () => {
    await emu?.stop();
  });

  beforeEach(async () => {
    expect((await control('faults', {})).status).toBe(200);
  });

  it('capacity unavailable: Spot by count, On-Demand by probability, as failures[] in a 200', async () => {
    await control('faults', { capacityUnavailable: { FARGATE_SPOT: { count: 1 }, FARGATE: { probability: 1 } } });
    const first = await run(spot);
    expect(first.tasks).toEqual([]);
    expect(first.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sshd:1', reason: FAILURE_REASONS.capacity }]);
    const onDemand = await run({ count: 2 });
    expect(onDemand.failures!.map((f) => f.reason)).toEqual([FAILURE_REASONS.capacity, FAILURE_REASONS.capacity]);
    const second = await run({ ...spot, startedBy: 'capacity' });
    expect(second.failures).toEqual([]);
    expect(second.tasks![0]!.capacityProviderName).toBe('FARGATE_SPOT');
    await emu.reset();
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }));
    await registerFargateTaskDefinition(ecs, 'sshd', ensureSshdImage());
  });

  it('vCPU limit: launches up to the quota, then fails the rest with AWS reason', async () => {
    await control('faults', { vcpuLimit: 0.5 });
    const out = await run({ count: 3, overrides: { containerOverrides: [{ name: 'ci-coordinator', command: ['sleep', '0.5'] }] } });
    expect(out.tasks).toHaveLength(2);
    expect(out.failures).toEqual([{ arn: expect.stringContaining('task-definition/sshd:1'), reason: FAILURE_REASONS.vcpuLimit }]);
    for (const task of out.tasks!) await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
  });

  it.each([
    ['CannotPullContainerError', /^CannotPullContainerError: pull image manifest has been retried/],
    ['ResourceInitializationError', /^ResourceInitializationError: unable to pull secrets or registry auth/],
  ])('stops a task before RUNNING with %s', async (error, reason) => {
    await control('faults', { startFailure: { error, count: 1 } });
    const task = (await run()).tasks![0]!;
    const stopped = await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toMatch(reason);
    expect(stopped.containers![0]!.reason).toMatch(reason);
    expect(stopped.startedAt).toBeUndefined();
    const history = historyOf(task);
    expect(history.map((c) => c.lastStatus)).not.toContain('RUNNING');
    // desiredStatus turned STOPPED while the task was still PENDING: pollers can fail fast on it.
    expect(history.find((c) => c.desiredStatus === 'STOPPED')!.lastStatus).toBe('PENDING');
  });

  it('slow provisioning stretches PROVISIONING', async () => {
    await control('faults', { slowProvisioning: { count: 1, extraMs: 1200 } });
    const task = (await run({ overrides: { containerOverrides: [{ name: 'ci-coordinator', command: ['true'] }] } })).tasks![0]!;
    await waitForTask(ecs, CLUSTER, task.taskArn!, (t) => t.lastStatus !== 'PROVISIONING');
    const history = historyOf(task);
    const pendingAt = history.find((c) => c.lastStatus === 'PENDING')!.at.getTime();
    expect(pendingAt - history[0]!.at.getTime()).toBeGreaterThanOrEqual(1200);
    await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
  });

  it('eventual consistency: a new task is MISSING for the first describes', async () => {
    await control('faults', { missingDescribes: 2 });
    const task = (await run({ overrides: { containerOverrides: [{ name: 'ci-coordinator', command: ['true'] }] } })).tasks![0]!;
    for (let i = 0; i < 2; i++) {
      const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [task.taskArn!] }));
      expect(out).toMatchObject({ tasks: [], failures: [{ arn: task.taskArn, reason: 'MISSING' }] });
    }
    const third = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [task.taskArn!] }));
    expect(third.tasks![0]!.taskArn).toBe(task.taskArn);
    await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
  });

  it('Spot interruption of a RUNNING task: TerminationNotice, SIGTERM, then SpotInterruption', async () => {
    await control('faults', { spotInterruption: { count: 1, afterRunningMs: 300, noticeMs: 800 } });
    const task = (await run(spot)).tasks![0]!;
    const notice = await waitForTask(ecs, CLUSTER, task.taskArn!, (t) => t.desiredStatus === 'STOPPED');
    expect(notice).toMatchObject({ lastStatus: 'RUNNING', stopCode: 'TerminationNotice', stoppedReason: 'Your Spot Task was interrupted.' });
    const stopped = await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
    expect(stopped.stopCode).toBe('SpotInterruption');
    expect(stopped.stoppedReason).toBe('Your Spot Task was interrupted.');
    expect(stopped.startedAt).toBeInstanceOf(Date);
  });

  it('Spot interruption on demand through the control endpoint', async () => {
    const task = (await run(spot)).tasks![0]!;
    await waitForTask(ecs, CLUSTER, task.taskArn!, isRunning);
    expect((await control('spot-interruption', { task: task.taskArn, noticeMs: 100 })).status).toBe(200);
    expect((await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped)).stopCode).toBe('SpotInterruption');
    expect((await control('spot-interruption', { task: task.taskArn })).status).toBe(409);
  });

  it('late sshd: RUNNING while the port still refuses, reachable after the delay', async () => {
    await control('faults', { lateSshd: { count: 1, delayMs: 1500 } });
    const task = (await run()).tasks![0]!;
    const running = await waitForTask(ecs, CLUSTER, task.taskArn!, isRunning);
    const runningAt = Date.now();
    const ip = running.attachments![0]!.details!.find((d) => d.name === 'privateIPv4Address')!.value!;
    // Refused, not a handshake that timed out (which would also reject): the task's network is up (its holder), and
    // Docker's proxy closes the connection at once when nothing listens inside (a close or a reset, by timing).
    await expect(sshExec(ip, keys.privateKey, 'true', 500)).rejects.toThrow(/Connection lost before handshake|ECONNRESET/);
    const ssh = await sshExecWhenReady(ip, keys.privateKey, 'echo late');
    expect(ssh.stdout.trim()).toBe('late');
    expect(ssh.readyAt - runningAt).toBeGreaterThanOrEqual(1000);
  });

  it('server errors are retried by the SDK; access denied is not', async () => {
    await control('faults', { serverError: { count: 2, operations: ['ListTasks'] }, accessDenied: { count: 1, operations: ['RunTask'] } });
    const retrying = ecsClient(emu.endpoint, { maxAttempts: 3 });
    const listed = await retrying.send(new ListTasksCommand({ cluster: CLUSTER }));
    expect(listed.$metadata.attempts).toBe(3);
    const denied = await run().catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied as Error).message).toMatch(/is not authorized to perform: ecs:RunTask/);
    expect((await control('faults', { serverError: { operations: ['Nope'] } })).status).toBe(400);
  });

  it('control endpoint: validates input, shows state, resets', async () => {
    const bad = await control('faults', { startFailure: { error: 'Nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body['message']).toMatch(/faults\.startFailure\.error: expected "CannotPullContainerError" or "ResourceInitializationError"/);
    expect((await control('faults', { bogus: 1 })).body['message']).toMatch(/faults\.bogus: unknown setting/);
    expect((await control('nothing', {})).status).toBe(404);
    const state = await control('state');
    expect(state.body).toMatchObject({ region: 'us-east-1', clusters: [CLUSTER] });
    expect((state.body['tasks'] as unknown[]).length).toBeGreaterThan(0);
    expect((await control('phases', { pendingMs: 10 })).body['phases']).toMatchObject({ pendingMs: 10 });
    const reset = await control('reset', {});
    expect(reset.body).toMatchObject({ clusters: [], tasks: [], phases: { pendingMs: 100 } });
  });
});
