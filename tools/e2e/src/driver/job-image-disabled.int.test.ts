import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job, waitForNothingLeft } from '../index.js';

// [JobImages] Enabled = false (the default): a job's image: is ignored with one job-log line, and the job runs in
// the task definition's image (the ci-coordinator), as before.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

describe('image: with [JobImages] Enabled = false', () => {
  it('is ignored with one line saying how to enable it, and the job runs on the ci-coordinator', async () => {
    const log = new CapturedLog();
    const result = await runJob({
      runner,
      env: stack.env,
      log,
      runnerLog: discard,
      prepareAttempts: 1,
      job: job({
        image: { name: 'ruby:3.3' },
        services: [{ name: 'postgres:16' }],
        script: ['test -x /usr/sbin/sshd && command -v bash >/dev/null && echo "on the ci-coordinator"'],
      }),
    });
    expect(result.outcome, log.text).toBe('success');
    expect(log.text).toContain('on the ci-coordinator');
    const lines = log.text.split('\n').filter((line) => line.includes('ignored'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('image: ruby:3.3; services: postgres:16');
    expect(lines[0]).toContain('[JobImages] Enabled = true and AgentImage');
    expect(await waitForNothingLeft(stack)).toEqual({ runningTasks: [], containers: [], metadataFiles: [] });
  });

  it('prints nothing about images for a job without one (the plain path unchanged)', async () => {
    const log = new CapturedLog();
    const result = await runJob({ runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, job: job({ script: ['echo plain'] }) });
    expect(result.outcome, log.text).toBe('success');
    expect(log.text).not.toMatch(/ignored|JobImages|Job image|build container/);
  });
});
