import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RegisterTaskDefinitionCommand, type Task } from '@aws-sdk/client-ecs';
import { JOB_CONTAINER_NAME } from '@gitlab-fargate/config';
import { buildCiCoordinatorImage, type LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, describeAllTasks, discard, job, waitForNothingLeft, type Leftovers } from '../index.js';

// ARM64 (Graviton) jobs end to end: FARGATE_CPU_ARCHITECTURE=ARM64 within [Overrides] CpuArchitectures selects
// [Fargate] Arm64TaskDefinition; the emulator runs the task as linux/arm64, refusing an image of another platform
// the way Fargate does. The whole ARM64 job runs under qemu (slow), so only with GITLAB_FARGATE_ARM64_TESTS=1.
const ARM64_RUNS = process.env.GITLAB_FARGATE_ARM64_TESTS === '1';
const ENSURE_ENGINE = fileURLToPath(new URL('../../../docker/ensure-engine', import.meta.url));
const ARM64_TASK_DEFINITION = 'gitlab-runner-dev-task-arm64';
const WRONG_IMAGE_TASK_DEFINITION = 'gitlab-runner-dev-task-arm64-amd64-image';
const nothingLeft: Leftovers = { runningTasks: [], containers: [], metadataFiles: [] };

let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

/** Registers an ARM64 job task definition running `image`, shaped like the local stack's own. */
async function registerArm64TaskDefinition(family: string, image: string): Promise<void> {
  await stack.ecs.send(new RegisterTaskDefinitionCommand({
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
    cpu: '512',
    memory: '1024',
    containerDefinitions: [{ name: JOB_CONTAINER_NAME, image, essential: true, portMappings: [{ containerPort: 22, protocol: 'tcp' }] }],
  }));
}

/** Offers ARM64 with `arm64TaskDefinition` and runs one job asking for `architecture`. */
async function runJobOn(arm64TaskDefinition: string, architecture: 'ARM64' | 'X86_64', script: string[]) {
  await stack.rewriteDriverConfig({
    fargateExtra: `  Arm64TaskDefinition = "${arm64TaskDefinition}"\n`,
    extraTables: '\n[Overrides]\n  CpuArchitectures = ["X86_64", "ARM64"]\n',
  });
  const before = new Set((await describeAllTasks(stack)).map((task) => task.taskArn));
  const log = new CapturedLog();
  const started = Date.now();
  const result = await runJob({
    runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
    job: job({ script, variables: { FARGATE_CPU_ARCHITECTURE: architecture } }),
  });
  const seconds = (Date.now() - started) / 1000;
  expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  const tasks: Task[] = (await describeAllTasks(stack)).filter((task) => !before.has(task.taskArn));
  return { result, log, seconds, tasks };
}

describe('ARM64 jobs', () => {
  it('fail with ECS\'s reason in the job log when the ARM64 task\'s image has no arm64 variant', async () => {
    await registerArm64TaskDefinition(WRONG_IMAGE_TASK_DEFINITION, stack.image);
    const { result, log, tasks } = await runJobOn(WRONG_IMAGE_TASK_DEFINITION, 'ARM64', ['echo never']);
    expect(result.outcome, log.text).toBe('system_failure');
    expect(log.text).toContain("CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain descriptor matching platform 'linux/arm64'");
    expect(log.text).not.toContain('never\n');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.taskDefinitionArn).toMatch(new RegExp(`:task-definition/${WRONG_IMAGE_TASK_DEFINITION}:1$`));
  });

  describe.runIf(ARM64_RUNS)('under qemu', () => {
    let arm64Image: string;

    beforeAll(async () => {
      execFileSync('bash', [ENSURE_ENGINE, '--arm64'], { stdio: ['ignore', 'ignore', 'inherit'] });
      const started = Date.now();
      arm64Image = await buildCiCoordinatorImage({
        tag: 'gitlab-fargate/ci-coordinator:local-arm64',
        baseImage: 'local/debian:bookworm-arm64',
        platform: 'linux/arm64',
      });
      console.log(`ci-coordinator linux/arm64 build (cached layers reused): ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await registerArm64TaskDefinition(ARM64_TASK_DEFINITION, arm64Image);
    }, 1_800_000);

    it('runs a whole job on an ARM64 task: the job log shows aarch64 and the ARM price', async () => {
      const script = ['uname -m', 'git --version'];
      const arm = await runJobOn(ARM64_TASK_DEFINITION, 'ARM64', script);
      expect(arm.result.outcome, arm.log.text).toBe('success');
      expect(arm.log.text).toMatch(/^aarch64$/m);
      expect(arm.log.text).toContain(`Starting a Fargate task from ${ARM64_TASK_DEFINITION}`);
      expect(arm.log.text).toMatch(/^Fargate cost so far: .*; on-demand ARM in eu-west-1;/m);
      expect(arm.tasks.map((task) => task.attributes?.find((a) => a.name === 'ecs.cpu-architecture')?.value)).toEqual(['arm64']);

      const x86 = await runJobOn(ARM64_TASK_DEFINITION, 'X86_64', script);
      expect(x86.result.outcome, x86.log.text).toBe('success');
      expect(x86.log.text).toMatch(/^x86_64$/m);
      console.log(`whole job (prepare to cleanup): ARM64 under qemu ${arm.seconds.toFixed(1)} s, x86_64 ${x86.seconds.toFixed(1)} s`);
    }, 600_000);
  });
});
