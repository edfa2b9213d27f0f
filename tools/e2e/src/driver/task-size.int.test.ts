import type { Task } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, describeAllTasks, discard, job, waitForNothingLeft, type Leftovers } from '../index.js';

// The task size an administrator sets in the driver TOML, end to end: RunTask's overrides as ECS (the emulator)
// records them on the task, against the local stack's task definition of 512 CPU units and 1024 MiB.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

const nothingLeft: Leftovers = { runningTasks: [], containers: [], metadataFiles: [] };
const CONFIGURED_SIZE = '  Cpu = 1024\n  Memory = 4096\n  EphemeralStorage = 50\n';

/** Runs one job that must succeed, and returns the one task it started (told apart from earlier ones by ARN). */
async function runSizedJob(variables: Record<string, string> = {}): Promise<Task> {
  const before = new Set((await describeAllTasks(stack)).map((task) => task.taskArn));
  const log = new CapturedLog();
  const result = await runJob({
    runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
    job: job({ script: ['echo sized'], variables }),
  });
  expect(result.outcome, log.text).toBe('success');
  expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  const started = (await describeAllTasks(stack)).filter((task) => !before.has(task.taskArn));
  expect(started).toHaveLength(1);
  return started[0]!;
}

describe('the task size from the driver TOML', () => {
  it('gives the task [Fargate] Cpu, Memory and EphemeralStorage instead of the task definition\'s size', async () => {
    await stack.rewriteDriverConfig({ fargateExtra: CONFIGURED_SIZE });
    const task = await runSizedJob();
    expect({ cpu: task.cpu, memory: task.memory, ephemeralStorage: task.ephemeralStorage?.sizeInGiB })
      .toEqual({ cpu: '1024', memory: '4096', ephemeralStorage: 50 });
    expect(task.taskDefinitionArn).toMatch(/:task-definition\/gitlab-runner-dev-task:1$/);
  });

  it('lets FARGATE_CPU, FARGATE_MEMORY and FARGATE_EPHEMERAL_STORAGE win within the [Overrides] ceilings', async () => {
    await stack.rewriteDriverConfig({
      fargateExtra: CONFIGURED_SIZE,
      extraTables: '\n[Overrides]\n  MaxCpu = 2048\n  MaxMemory = 8192\n  MaxEphemeralStorage = 100\n',
    });
    const task = await runSizedJob({ FARGATE_CPU: '2048', FARGATE_MEMORY: '8192', FARGATE_EPHEMERAL_STORAGE: '30' });
    expect({ cpu: task.cpu, memory: task.memory, ephemeralStorage: task.ephemeralStorage?.sizeInGiB })
      .toEqual({ cpu: '2048', memory: '8192', ephemeralStorage: 30 });
  });
});
