import { CreateClusterCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient, registerFargateTaskDefinition } from '../../test/support/clients.js';
import { ensureSshdImage } from '../../test/support/image.js';
import { isStopped, waitForTask } from '../../test/support/waiting.js';
import type { TaskStateChange } from '../config/options.js';
import { DockerClient } from '../docker/docker-client.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';
import { LABELS } from './container-spec.js';

const CLUSTER = 'early-stop';
/** Several tasks, since each StopTask lands at a slightly different point of the holder's creation. */
const TASKS = 4;

// The README promises that a stopped task leaves no container. A StopTask that arrives while the task's network
// holder is being created (PROVISIONING, right after RunTask with no provisioning delay) or while the task is PENDING
// must remove the holder as well as the task's containers.
describe('a task stopped before it runs', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;
  const docker = new DockerClient();
  const stopAtPending = new Set<string>();

  beforeAll(async () => {
    emu = await startEmulator({
      phases: { provisioningMs: 0 },
      onTaskStateChange: (change: TaskStateChange) => {
        if (change.lastStatus === 'PENDING' && stopAtPending.has(change.taskArn)) void stop(change.taskArn);
      },
    });
    ecs = ecsClient(emu.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE'] }));
    await registerFargateTaskDefinition(ecs, 'sshd', ensureSshdImage());
  });

  afterAll(async () => {
    await emu?.stop();
  });

  function stop(taskArn: string): Promise<unknown> {
    return ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'early stop' }));
  }

  async function runTask(): Promise<string> {
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'sshd', launchType: 'FARGATE', networkConfiguration: awsvpc() }));
    return run.tasks![0]!.taskArn!;
  }

  async function containersLeft(taskArns: string[]): Promise<string[]> {
    const lists = await Promise.all(taskArns.map((arn) => docker.listContainers([`${LABELS.taskArn}=${arn}`])));
    return lists.flat().map((container) => `${container.Labels[LABELS.role] ?? container.Labels[LABELS.containerName]} ${container.Id.slice(0, 12)}`);
  }

  it('leaves no container when StopTask arrives while the network holder is being created', async () => {
    const taskArns = await Promise.all(
      Array.from({ length: TASKS }, async () => {
        const taskArn = await runTask();
        await stop(taskArn);
        return taskArn;
      }),
    );
    for (const taskArn of taskArns) await waitForTask(ecs, CLUSTER, taskArn, isStopped);
    expect(await containersLeft(taskArns)).toEqual([]);
  });

  it('leaves no container when StopTask arrives in PENDING', async () => {
    const taskArns = await Promise.all(
      Array.from({ length: TASKS }, async () => {
        const taskArn = await runTask();
        stopAtPending.add(taskArn);
        return taskArn;
      }),
    );
    for (const taskArn of taskArns) await waitForTask(ecs, CLUSTER, taskArn, isStopped);
    expect(await containersLeft(taskArns)).toEqual([]);
  });
});
