import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type JobResult, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job, waitForNothingLeft } from '../index.js';

// What gitlab-runner 19 does after a cancel, a dead task or a deadline, played by the runner harness against the
// compiled driver and the emulator: the stages it still calls must work (or fail fast) on the job's task.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };
/** The driver's default `[SSH] ConnectTimeout`, in seconds: a stage on a dead task must fail within about this. */
const connectTimeoutSeconds = 10;

function phases(result: JobResult, from: string): [string, number | null][] {
  const all = result.timings.map((t): [string, number | null] => [t.phase, t.exitCode]);
  return all.slice(all.findIndex(([phase]) => phase === from));
}

describe('after the script, as gitlab-runner goes on', () => {
  it('a cancel at a marker is followed by after_script (status canceled) and cleanup_file_variables on the same task', async () => {
    const log = new CapturedLog();
    const controller = new AbortController();
    void log.waitFor(/^marker-42 on \S+$/m).then(() => controller.abort());
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, signal: controller.signal,
      job: job({
        script: ['echo "marker-$((6 * 7)) on $(hostname)"', 'sleep 300', 'echo "after the sleep"'],
        afterScript: ['echo "after_script $CI_JOB_STATUS on $(hostname)"'],
      }),
    });
    expect(result.outcome, log.text).toBe('canceled');
    expect(phases(result, 'after_script'), log.text).toEqual([['after_script', 0], ['cleanup_file_variables', 0], ['cleanup', 0]]);
    const scriptHost = /^marker-42 on (\S+)$/m.exec(log.text)?.[1];
    expect(log.text).toMatch(new RegExp(`^after_script canceled on ${scriptHost}$`, 'm'));
    expect(log.text).not.toMatch(/^after the sleep$/m);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('the task stopped mid-script: after_script and cleanup_file_variables each fail fast as system failures', async () => {
    const log = new CapturedLog();
    void log.waitFor(/^marker-42$/m).then(async () => {
      const task = /Task (arn:aws:ecs:\S+) created/.exec(log.text)![1]!;
      await stack.ecs.send(new StopTaskCommand({ cluster: stack.cluster, task, reason: 'stopped by the test' }));
    });
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo "marker-$((6 * 7))"', 'sleep 300'], afterScript: ['echo never-printed'] }),
    });
    expect(result.outcome, log.text).toBe('system_failure');
    expect(phases(result, 'build_script'), log.text).toEqual([
      ['build_script', 2], ['after_script', 2], ['cleanup_file_variables', 2], ['cleanup', 0],
    ]);
    for (const stage of ['after_script', 'cleanup_file_variables']) {
      const seconds = result.timings.find((t) => t.phase === stage)!.seconds;
      expect(seconds, `${stage} took ${seconds} s\n${log.text}`).toBeLessThan(connectTimeoutSeconds + 5);
    }
    expect(log.text).not.toContain('never-printed');
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('a job timeout during a slow provisioning: SIGTERM, prepare exits with the system-failure code, one attempt, nothing left', async () => {
    stack.emulator.setFaults({ slowProvisioning: { extraMs: 30_000, count: 1 } });
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard,
      job: job({ script: ['echo never-printed'], timeoutSeconds: 4 }),
    });
    stack.emulator.setFaults({});
    expect(result).toMatchObject({ outcome: 'timed_out', prepareAttempts: 1 });
    expect(result.timings.map((t) => [t.phase, t.exitCode]), log.text).toEqual([['config', 0], ['prepare', 2], ['cleanup', 0]]);
    expect(log.text).not.toContain('never-printed');
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('runs a job with only PATH, the protocol variables and the emulator endpoints in the driver\'s environment', async () => {
    // No AWS_REGION and no credentials in the manager's environment: the driver TOML's Region counts, and the
    // credentials come from a task-role style container endpoint, as on an ECS-hosted runner manager.
    const credentials = JSON.stringify({
      AccessKeyId: stack.env.AWS_ACCESS_KEY_ID, SecretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY,
      Token: 'task-role-session', Expiration: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(credentials));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const env = {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_ECS: stack.env.AWS_ENDPOINT_URL_ECS,
        AWS_ENDPOINT_URL_EC2: stack.env.AWS_ENDPOINT_URL_EC2,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(server.address() as AddressInfo).port}/role`,
      };
      const log = new CapturedLog();
      const result = await runJob({ runner, env, log, runnerLog: discard, prepareAttempts: 1, job: job({ script: ['echo "hello from $(hostname)"'] }) });
      expect(result.outcome, log.text).toBe('success');
      expect(log.text).toMatch(/^hello from \S+$/m);
    } finally {
      server.close();
    }
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('runs gitlab-runner 19.0\'s script form (: | eval) too: output, exit code, after_script', async () => {
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, scriptShape: '19.0',
      job: job({ script: ['echo "legacy form on $(hostname)"', 'exit 5'], afterScript: ['echo "after_script $CI_JOB_STATUS"'] }),
    });
    expect(result, log.text).toMatchObject({ outcome: 'script_failure', exitCode: 5 });
    expect(log.text).toMatch(/^legacy form on \S+$/m);
    expect(log.text).toMatch(/^after_script failed$/m);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});
