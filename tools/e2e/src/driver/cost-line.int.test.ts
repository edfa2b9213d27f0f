import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, job, waitForNothingLeft } from '../index.js';

// One whole job through the runner harness, the compiled driver, the ECS emulator and the real ci-coordinator image:
// the job log ends with the task's timeline and cost line, and cleanup writes the job's metrics document.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

describe('the job log shows what the job cost', () => {
  it('ends with the timeline (ECS and driver times) and the cost so far; cleanup logs the metrics document', async () => {
    const log = new CapturedLog();
    const runnerLog = new CapturedLog();
    const result = await runJob({ runner, env: stack.env, log, runnerLog, prepareAttempts: 1, job: job({ script: ['echo "cost me"'] }) });
    expect(result.outcome, log.text).toBe('success');

    const tail = log.text.slice(log.text.indexOf('Fargate task timeline'));
    expect(tail, log.text.slice(-3000)).toMatch(/^Fargate task timeline \(seconds after prepare started\):\n/);
    for (const step of ['prepare started', 'RunTask sent', 'task created (ECS)', 'image pull started (ECS)', 'image pull finished (ECS)', 'SSH ready: the job starts', 'now (this stage)']) {
      expect(tail).toContain(step);
    }
    expect(tail).toMatch(/^ {2}start latency \d+\.\d s \(prepare started → SSH ready\)$/m);
    // A job of a few seconds is billed the one-minute minimum; the emulator's region (eu-west-1) is in the price table.
    expect(tail).toMatch(/^Fargate cost so far: 60 s \(the one-minute minimum\) × [\d.]+ vCPU, [\d.]+ GB: [\d.]+ vCPU-s, [\d.]+ GB-s; on-demand x86 in eu-west-1; ≈ \$0\.\d+ \(estimate; prices: AWS's AmazonECS price list .*, as of \d{4}-\d{2}-\d{2}\)$/m);

    // Cleanup's structured log reaches the runner's log (gitlab-runner prefixes each line): one JSON document per job.
    const documents = runnerLog.text
      .split('\n')
      .map((line) => line.replace(/^cleanup_std=(out|err) /, ''))
      .filter((line) => line.startsWith('{"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(documents, runnerLog.text).toHaveLength(1);
    expect(documents[0]).toMatchObject({ msg: 'job metrics', Outcome: 'success', Reason: 'none', Jobs: 1, StartFailure: 0, start: 'cold', region: 'eu-west-1' });
    expect(documents[0]?.StartLatency).toBeGreaterThan(0);
    expect(documents[0]?.Cost).toBeGreaterThan(0);
    expect(await waitForNothingLeft(stack)).toEqual({ runningTasks: [], containers: [], metadataFiles: [] });
  });
});
