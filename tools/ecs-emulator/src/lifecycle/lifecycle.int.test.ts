import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ec2Client, ecsClient, registerFargateTaskDefinition } from '../../test/support/clients.js';
import { ensureSshdImage } from '../../test/support/image.js';
import { newKeyPair, sshExecWhenReady } from '../../test/support/ssh.js';
import { isRunning, isStopped, waitForTask } from '../../test/support/waiting.js';
import type { TaskStateChange } from '../config/options.js';
import { DockerClient } from '../docker/docker-client.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';
import { LABELS } from './container-spec.js';

const CLUSTER = 'lifecycle';

describe('Docker-backed task lifecycle', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;
  let image: string;
  const changes: TaskStateChange[] = [];
  const docker = new DockerClient();

  beforeAll(async () => {
    image = ensureSshdImage();
    emu = await startEmulator({ stoppedRetentionMs: 1500, onTaskStateChange: (change) => changes.push(change) });
    ecs = ecsClient(emu.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }));
    await registerFargateTaskDefinition(ecs, 'sshd', image);
  });

  afterAll(async () => {
    await emu?.stop();
  });

  it('runs a task through every state, reachable over SSH at its own loopback address', async () => {
    const keys = newKeyPair();
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'sshd',
        launchType: 'FARGATE',
        networkConfiguration: awsvpc('ENABLED'),
        startedBy: 'lifecycle-test',
        overrides: {
          containerOverrides: [{ name: 'ci-coordinator', environment: [{ name: 'SSH_PUBLIC_KEY', value: keys.publicKey }, { name: 'JOB', value: '42' }] }],
        },
      }),
    );
    const launched = run.tasks![0]!;
    expect(launched.lastStatus).toBe('PROVISIONING');
    expect(launched.attachments![0]!.status).toBe('PRECREATED');
    expect(launched.attachments![0]!.details).toEqual([{ name: 'subnetId', value: 'subnet-0a1b2c3d4e5f60718' }]);
    expect(launched.createdAt).toBeInstanceOf(Date);

    const running = await waitForTask(ecs, CLUSTER, launched.taskArn!, isRunning);
    const runningAt = Date.now();
    const details = Object.fromEntries(running.attachments![0]!.details!.map((d) => [d.name, d.value]));
    const ip = details['privateIPv4Address']!;
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(details['networkInterfaceId']).toMatch(/^eni-[0-9a-f]{17}$/);
    expect(running.containers![0]!.networkInterfaces![0]!.privateIpv4Address).toBe(ip);
    expect(running.containers![0]!.runtimeId).toMatch(/^[0-9a-f]{64}$/);
    expect(running.startedAt).toBeInstanceOf(Date);

    const ssh = await sshExecWhenReady(ip, keys.privateKey, 'echo "job=$JOB region=$AWS_REGION"; hostname -I >/dev/null; exit 3');
    expect(ssh.stdout.trim()).toBe('job=42 region=us-east-1');
    expect(ssh.code).toBe(3);
    console.log(`readiness: RUNNING seen → SSH command done in ${ssh.readyAt - runningAt} ms (${ssh.attempts} attempt(s))`);

    // Public IP: a second loopback address, found through EC2 DescribeNetworkInterfaces as on AWS.
    const enis = await ec2Client(emu.endpoint).send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [details['networkInterfaceId']!] }));
    const publicIp = enis.NetworkInterfaces![0]!.Association!.PublicIp!;
    expect(publicIp).toMatch(/^127\./);
    expect(publicIp).not.toBe(ip);
    expect(enis.NetworkInterfaces![0]!.PrivateIpAddress).toBe(ip);
    expect((await sshExecWhenReady(publicIp, keys.privateKey, 'echo public')).stdout.trim()).toBe('public');

    const stop = await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: launched.taskArn!, reason: 'job finished' }));
    expect(stop.task!.desiredStatus).toBe('STOPPED');
    expect(stop.task!.stopCode).toBe('UserInitiated');
    expect(stop.task!.stoppedReason).toBe('job finished');

    const stopped = await waitForTask(ecs, CLUSTER, launched.taskArn!, isStopped);
    expect(stopped.stoppedAt).toBeInstanceOf(Date);
    expect(stopped.attachments![0]!.status).toBe('DELETED');
    expect(stopped.containers![0]!.lastStatus).toBe('STOPPED');
    expect(stopped.containers![0]!.exitCode).toBe(0); // sshd exits cleanly on SIGTERM

    const states = changes.filter((c) => c.taskArn === launched.taskArn).map((c) => c.lastStatus);
    expect([...new Set(states)]).toEqual(['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);
    // The address is known from PENDING on, as on AWS.
    expect(changes.find((c) => c.taskArn === launched.taskArn && c.lastStatus === 'PENDING')!.privateIp).toBe(ip);
    // desiredStatus flips before lastStatus leaves RUNNING.
    const stopDecision = changes.findIndex((c) => c.taskArn === launched.taskArn && c.desiredStatus === 'STOPPED');
    expect(changes[stopDecision]!.lastStatus).toBe('RUNNING');

    expect(await docker.listContainers([`${LABELS.taskArn}=${launched.taskArn}`])).toEqual([]);

    // After the retention time the task is MISSING, as AWS forgets stopped tasks.
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const gone = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [launched.taskArn!] }));
    expect(gone.tasks).toEqual([]);
    expect(gone.failures).toEqual([{ arn: launched.taskArn, reason: 'MISSING' }]);
  });

  it('stops the task with EssentialContainerExited and the exit code when the essential container exits', async () => {
    // No port mappings: nothing to wait for in ACTIVATING, so the task reaches RUNNING before the exit.
    await registerFargateTaskDefinition(ecs, 'exiter', image, { portMappings: [] });
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'exiter',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        networkConfiguration: awsvpc(),
        overrides: { containerOverrides: [{ name: 'ci-coordinator', command: ['sh', '-c', 'sleep 1; exit 7'] }] },
      }),
    );
    const task = run.tasks![0]!;
    expect(task.capacityProviderName).toBe('FARGATE_SPOT');
    expect(task.launchType).toBe('FARGATE');
    const stopped = await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
    expect(stopped.stopCode).toBe('EssentialContainerExited');
    expect(stopped.stoppedReason).toBe('Essential container in task exited');
    expect(stopped.containers![0]!.exitCode).toBe(7);
    expect(stopped.startedAt).toBeInstanceOf(Date);
  });

  it('fails a task whose image is not on the machine with CannotPullContainerError, never pulling', async () => {
    await registerFargateTaskDefinition(ecs, 'absent-image', 'example.invalid/no-such-image:1');
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'absent-image', launchType: 'FARGATE', networkConfiguration: awsvpc() }));
    const stopped = await waitForTask(ecs, CLUSTER, run.tasks![0]!.taskArn!, isStopped);
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toMatch(/^CannotPullContainerError: .*example\.invalid\/no-such-image:1.*not found/);
    expect(stopped.containers![0]!.reason).toBe(stopped.stoppedReason);
    expect(stopped.startedAt).toBeUndefined();
  });

  it('removes containers left by a dead emulator on start, and its own on stop', async () => {
    const orphanLabels = { [LABELS.managed]: 'true', [LABELS.host]: (await import('node:os')).hostname(), [LABELS.instance]: 'dead', [LABELS.pid]: '999999999' };
    const orphan = await docker.createContainer({ Image: image, Labels: orphanLabels, HostConfig: {} });
    const other = await startEmulator({});
    try {
      expect((await docker.listContainers([`${LABELS.instance}=dead`])).map((c) => c.Id)).not.toContain(orphan);
      const otherEcs = ecsClient(other.endpoint);
      await otherEcs.send(new CreateClusterCommand({ clusterName: 'c', capacityProviders: [] }));
      await registerFargateTaskDefinition(otherEcs, 'sshd', image, { environment: [{ name: 'SSH_PUBLIC_KEY', value: 'ssh-ed25519 AAAA unused' }] });
      const run = await otherEcs.send(new RunTaskCommand({ cluster: 'c', taskDefinition: 'sshd', launchType: 'FARGATE', networkConfiguration: awsvpc() }));
      await waitForTask(otherEcs, 'c', run.tasks![0]!.taskArn!, isRunning);
      // The task's container and its network holder.
      expect(await docker.listContainers([`${LABELS.instance}=${other.instanceId}`])).toHaveLength(2);
      // The first emulator's containers survive: the other one is alive.
      await other.stop();
      expect(await docker.listContainers([`${LABELS.instance}=${other.instanceId}`])).toEqual([]);
    } finally {
      await docker.removeContainer(orphan);
      await other.stop().catch(() => undefined);
    }
  });
});
