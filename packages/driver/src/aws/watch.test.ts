import { ClientException, DescribeTasksCommand, ECSClient, type Task } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { TaskStopped, waitForRunning } from './watch.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';

function task(lastStatus: string, extra: Partial<Task> = {}): Task {
  return {
    taskArn: ARN,
    lastStatus,
    desiredStatus: 'RUNNING',
    containers: [{ name: 'ci-coordinator', lastStatus: lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING' }],
    ...extra,
  };
}

/** A clock that advances only when the watcher sleeps: polls are counted, not waited for. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)), sleeps };
}

beforeEach(() => ecsMock.reset());

describe('waitForRunning', () => {
  it('tolerates MISSING right after RunTask, then reports each status change with elapsed seconds', async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [], failures: [{ arn: ARN, reason: 'MISSING' }] })
      .resolvesOnce({ tasks: [task('PROVISIONING')] })
      .resolvesOnce({ tasks: [task('PENDING')] })
      .resolvesOnce({ tasks: [task('PENDING')] })
      .resolves({ tasks: [task('RUNNING')] });
    const time = fakeTime();
    const transitions: string[] = [];
    const running = await waitForRunning(ecs, 'ci', ARN, {
      ...time,
      pollIntervalMs: 2_000,
      containerName: 'ci-coordinator',
      onTransition: (status, seconds) => transitions.push(`${status}@${seconds}`),
    });
    expect(running.lastStatus).toBe('RUNNING');
    expect(transitions).toEqual(['PROVISIONING@2', 'PENDING@4', 'RUNNING@8']);
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTasksCommand, 5);
  });

  it('fails once MISSING outlasts the grace period', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: ARN, reason: 'MISSING' }] });
    const time = fakeTime();
    await expect(waitForRunning(ecs, 'ci', ARN, { ...time, missingGraceMs: 10_000 })).rejects.toThrow(/ECS does not know task .* \(MISSING for 1[02] s/);
  });

  it('fails fast with stopCode, stoppedReason and each container reason when the task stops', async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('PENDING')] })
      .resolves({
        tasks: [
          task('STOPPED', {
            desiredStatus: 'STOPPED',
            stopCode: 'TaskFailedToStart',
            stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/foo:latest: not found',
            containers: [
              { name: 'ci-coordinator', lastStatus: 'STOPPED', reason: 'CannotPullContainerError: ref not found' },
              { name: 'sidecar', lastStatus: 'STOPPED', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
            ],
          }),
        ],
      });
    const time = fakeTime();
    const promise = waitForRunning(ecs, 'ci', ARN, time);
    await expect(promise).rejects.toBeInstanceOf(TaskStopped);
    await expect(promise).rejects.toThrow(
      /stopCode TaskFailedToStart; reason: CannotPullContainerError: pull image manifest.*; container ci-coordinator: CannotPullContainerError: ref not found; container sidecar: OutOfMemoryError: Container killed due to memory usage, exit code 137/,
    );
  });

  it('fails as soon as ECS decides to stop the task (desiredStatus STOPPED), before it reaches STOPPED', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task('RUNNING', { desiredStatus: 'STOPPED', stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' })] });
    await expect(waitForRunning(ecs, 'ci', ARN, fakeTime())).rejects.toThrow(/stopCode SpotInterruption; reason: Your Spot Task was interrupted\./);
  });

  it('keeps polling through throttling, and gives up on other errors at once', async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ tasks: [task('RUNNING')] });
    const errors: unknown[] = [];
    await expect(waitForRunning(ecs, 'ci', ARN, { ...fakeTime(), onPollError: (e) => errors.push(e) })).resolves.toMatchObject({ lastStatus: 'RUNNING' });
    expect(errors).toHaveLength(1);

    ecsMock.reset();
    ecsMock.on(DescribeTasksCommand).rejects(new ClientException({ message: 'Cluster not found.', $metadata: {} }));
    await expect(waitForRunning(ecs, 'ci', ARN, fakeTime())).rejects.toThrow(/DescribeTasks failed: ClientException: Cluster not found\./);
  });

  it('waits for the SSH container itself and for a health check to pass', async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [task('RUNNING', { containers: [{ name: 'ci-coordinator', lastStatus: 'PENDING' }] })] })
      .resolvesOnce({ tasks: [task('RUNNING', { containers: [{ name: 'ci-coordinator', lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY' }] })] })
      .resolves({ tasks: [task('RUNNING', { containers: [{ name: 'ci-coordinator', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }] })] });
    const transitions: string[] = [];
    await waitForRunning(ecs, 'ci', ARN, { ...fakeTime(), containerName: 'ci-coordinator', onTransition: (s) => transitions.push(s) });
    expect(transitions).toEqual(['RUNNING', 'RUNNING (UNHEALTHY)', 'RUNNING (HEALTHY)']);
  });

  it('times out with the last status and a hint', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task('PENDING')] });
    const time = fakeTime();
    await expect(waitForRunning(ecs, 'ci', ARN, { ...time, timeoutMs: 30_000, pollIntervalMs: 5_000 })).rejects.toThrow(
      /was not RUNNING after 30 s \(last status PENDING\); large images pull slowly/,
    );
    expect(time.now()).toBe(30_000);
  });

  it('with pauseFirst, pauses before the first poll too, and asks for each pause with the time waited', async () => {
    const time = fakeTime();
    const asked: number[] = [];
    const polledAt: number[] = [];
    ecsMock.on(DescribeTasksCommand).callsFake(() => {
      polledAt.push(time.now());
      return { tasks: [task(polledAt.length < 3 ? 'PENDING' : 'RUNNING')] };
    });
    await waitForRunning(ecs, 'ci', ARN, { ...time, pauseFirst: true, pollIntervalMs: (elapsedMs) => (asked.push(elapsedMs), 1_000 + elapsedMs) });
    expect(asked).toEqual([0, 1_000, 3_000]);
    expect(polledAt).toEqual([1_000, 3_000, 7_000]);
  });

  it('stops waiting when the job is cancelled', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task('PENDING')] });
    const controller = new AbortController();
    const reason = new Error('cancelled by SIGTERM');
    let polls = 0;
    const sleep = async () => {
      if (++polls === 2) controller.abort(reason);
    };
    await expect(waitForRunning(ecs, 'ci', ARN, { sleep, now: () => 0, signal: controller.signal })).rejects.toBe(reason);
  });
});
