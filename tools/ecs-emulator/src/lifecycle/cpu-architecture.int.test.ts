import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient } from '../../test/support/clients.js';
import { isStopped, waitForTask } from '../../test/support/waiting.js';
import { platformMismatchReason } from '../ecs/cpu-architecture.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';

const CLUSTER = 'architectures';
const AMD64_IMAGE = 'local/debian:bookworm';
/** Recorded as linux/arm64 but holds no program: a FROM scratch build needs no qemu. */
const ARM64_ONLY_IMAGE = 'gitlab-fargate/ecs-emulator-test-arm64-only:latest';
const ARM64_ONLY_CONTEXT = fileURLToPath(new URL('../../test/fixtures/arm64-only-image', import.meta.url));
/** Runs ARM64 containers under qemu: slow the first time (ensure-engine --arm64 builds the ARM64 base). */
const ARM64_RUNS = process.env.GITLAB_FARGATE_ARM64_TESTS === '1';
const ENSURE_ENGINE = fileURLToPath(new URL('../../../docker/ensure-engine', import.meta.url));

describe('runtimePlatform.cpuArchitecture', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;

  const register = (family: string, image: string, cpuArchitecture?: string, command?: string[]) =>
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        ...(cpuArchitecture ? { runtimePlatform: { cpuArchitecture: cpuArchitecture as 'ARM64', operatingSystemFamily: 'LINUX' } } : {}),
        containerDefinitions: [{ name: 'job', image, essential: true, ...(command ? { command } : {}) }],
      }),
    );

  const runToStop = async (taskDefinition: string): Promise<Task> => {
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition, launchType: 'FARGATE', networkConfiguration: awsvpc() }));
    return waitForTask(ecs, CLUSTER, run.tasks![0]!.taskArn!, isStopped, 120_000);
  };

  beforeAll(async () => {
    execFileSync('docker', ['build', '--quiet', '--platform', 'linux/arm64', '--tag', ARM64_ONLY_IMAGE, ARM64_ONLY_CONTEXT], { stdio: ['ignore', 'ignore', 'pipe'] });
    emu = await startEmulator({});
    ecs = ecsClient(emu.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE'] }));
  });

  afterAll(async () => {
    await emu?.stop();
  });

  it('stops an ARM64 task whose image is amd64 the way Fargate does, naming linux/arm64', async () => {
    await register('arm64-task-amd64-image', AMD64_IMAGE, 'ARM64');
    const task = await runToStop('arm64-task-amd64-image');
    expect(task.stopCode).toBe('TaskFailedToStart');
    expect(task.stoppedReason).toBe(
      "CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain descriptor matching platform 'linux/arm64'",
    );
    expect(task.containers![0]!.reason).toBe(task.stoppedReason);
    expect(task.attributes).toContainEqual({ name: 'ecs.cpu-architecture', value: 'arm64' });
  });

  it('stops an X86_64 task (the default) whose image is arm64-only, naming linux/amd64', async () => {
    await register('default-task-arm64-image', ARM64_ONLY_IMAGE);
    const task = await runToStop('default-task-arm64-image');
    expect(task.stopCode).toBe('TaskFailedToStart');
    expect(task.stoppedReason).toBe(platformMismatchReason('linux/amd64'));
  });

  it('refuses a cpuArchitecture Fargate does not know when the task definition is registered', async () => {
    const error = await register('bad-architecture', AMD64_IMAGE, 'AMD64').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ClientException' });
    expect((error as Error).message).toBe("Invalid runtimePlatform.cpuArchitecture 'AMD64': expected one of X86_64, ARM64.");
  });

  it.runIf(ARM64_RUNS)('runs an ARM64 task as linux/arm64: its container sees aarch64', async () => {
    execFileSync('bash', [ENSURE_ENGINE, '--arm64'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exitWhenAarch64 = ['bash', '-c', 'if [ "$(uname -m)" = aarch64 ]; then exit 42; else uname -m >&2; exit 1; fi'];
    await register('arm64-task', 'local/debian:bookworm-arm64', 'ARM64', exitWhenAarch64);
    const task = await runToStop('arm64-task');
    expect(task.stopCode).toBe('EssentialContainerExited');
    expect(task.containers![0]!.exitCode).toBe(42);
  }, 900_000);
});
