import { chmod, chown, cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import type { RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { ProtocolJob } from './driver-stage.js';
import { noResidue, settleResidue } from './residue.js';

// The orphan reaper runs `gc --without-state` in an ECS task of its own, where the configured `[TaskMetadata]
// Directory` is not the manager's: it must not read it (nor refuse it), and go by each task's deadline tag.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

/**
 * The stack's driver TOML with `[TaskMetadata] Directory` pointing at a folder like the one in the reaper's own
 * container: it holds states naming both jobs' tasks (reading them would keep the untagged task), and gc would refuse
 * it (another user's when this runs as root, as the reaper's gitlab-runner folder is; else writable by all).
 */
async function reaperConfig(): Promise<string> {
  const folder = join(stack.workDir, 'reaper-metadata');
  await cp(stack.metadataDirectory, folder, { recursive: true, filter: (source) => !source.endsWith('.sock') });
  expect((await readdir(folder)).filter((name) => name.endsWith('.json')).length).toBeGreaterThanOrEqual(2);
  if (process.getuid?.() === 0) {
    await chown(folder, 65534, 65534);
  } else {
    await chmod(folder, 0o777);
  }
  const text = await readFile(stack.driverConfigPath, 'utf8');
  const pointed = text.replace(/^(\s*Directory = ).*$/m, `$1${JSON.stringify(folder)}`);
  expect(pointed).toContain(`Directory = ${JSON.stringify(folder)}`);
  const path = join(stack.workDir, 'reaper.toml');
  await writeFile(path, pointed, { mode: 0o600 });
  return path;
}

async function prepared(job: ProtocolJob): Promise<string> {
  const prepare = await job.start('prepare').exited;
  expect(prepare.code, prepare.output).toBe(0);
  return /Task (arn:\S+) created/.exec(prepare.output)![1]!;
}

describe('the orphan reaper (gc --without-state)', () => {
  it("leaves a running job's task alone until its deadline tag, whatever --min-age says, and stops untagged ones by age", async () => {
    const longJob = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
    const noTimeout = await ProtocolJob.create(stack, runner);
    try {
      const preparedAt = Date.now();
      const longTask = await prepared(longJob);
      const untaggedTask = await prepared(noTimeout);

      const reaper = await longJob.reaperGc(await reaperConfig(), 0).exited;
      expect(reaper.code, reaper.output).toBe(0);
      expect(reaper.output).toContain(`stopped ${untaggedTask} (no deadline tag,`);
      expect(reaper.output).toMatch(/gc: 1 stopped, 1 kept/);

      const described = await stack.ecs.send(new DescribeTasksCommand({ cluster: stack.cluster, tasks: [longTask, untaggedTask], include: ['TAGS'] }));
      const byArn = new Map(described.tasks!.map((task) => [task.taskArn, task]));
      expect(byArn.get(longTask)?.desiredStatus).toBe('RUNNING');
      expect(byArn.get(untaggedTask)?.desiredStatus).toBe('STOPPED');
      const deadline = byArn.get(longTask)?.tags?.find((tag) => tag.key === 'gitlab-fargate:deadline')?.value ?? '';
      expect(deadline).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // prepare's start + the job's 600 s + the 1 h grace
      expect(Date.parse(deadline) - preparedAt).toBeGreaterThanOrEqual((600 + 3600) * 1000 - 1000);
      expect(Date.parse(deadline) - Date.now()).toBeLessThanOrEqual((600 + 3600) * 1000 + 1000);
      expect(byArn.get(untaggedTask)?.tags?.map((tag) => tag.key)).not.toContain('gitlab-fargate:deadline');

      for (const job of [longJob, noTimeout]) {
        const cleanup = await job.start('cleanup').exited;
        expect(cleanup.code, cleanup.output).toBe(0);
      }
      expect(await settleResidue(stack, [longJob.tmpDir, noTimeout.tmpDir])).toEqual(noResidue);
    } finally {
      await longJob.remove();
      await noTimeout.remove();
    }
  });
});
