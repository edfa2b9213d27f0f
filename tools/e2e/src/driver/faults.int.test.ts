import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, describeAllTasks, discard, job, setDriverTimeouts, waitForNothingLeft } from '../index.js';

// Cancellation and AWS's bad days (late sshd, no Spot capacity) against the emulator's fault injection, with the
// runner harness driving the compiled driver CLI and the real ci-coordinator image.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };
const SPOT_ONLY = '  CapacityProviderStrategy = [{ CapacityProvider = "FARGATE_SPOT", Weight = 1 }]\n';

describe('cancellation (SIGTERM to the driver, as gitlab-runner sends on cancel)', () => {
  it('during prepare, while waiting for the task: prepare exits with the system-failure code and nothing is left', async () => {
    stack.emulator.setFaults({ slowProvisioning: { extraMs: 8_000, count: 1 } });
    const log = new CapturedLog();
    const controller = new AbortController();
    // The driver prints this line once the task is recorded, then waits for it (8 s more PROVISIONING): the cancel
    // lands in that wait. No timer: the log and the prepare time below show it did not wait for RUNNING.
    void log.waitFor(/Task arn:\S+ created/).then(() => controller.abort());
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, signal: controller.signal,
      job: job({ script: ['echo never'] }),
    });
    expect(result.outcome, log.text).toBe('canceled');
    // The driver handled SIGTERM itself (an exit code, not death by signal) and did not report success.
    expect(result.timings.find((t) => t.phase === 'prepare')).toMatchObject({ exitCode: 2 });
    expect(result.timings.find((t) => t.phase === 'prepare')!.seconds).toBeLessThan(8);
    expect(log.text).not.toContain('echo never');
    expect(log.text, 'canceled while waiting, before the task ran').not.toMatch(/Task is RUNNING/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('during run, mid-script: the stage exits with the system-failure code, the task is stopped, nothing is left', async () => {
    const log = new CapturedLog();
    const controller = new AbortController();
    void log.waitFor(/^marker-42$/m).then(() => controller.abort());
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, signal: controller.signal,
      job: job({ script: ['echo "marker-$((6 * 7))"', 'sleep 300', 'echo "after the sleep"'] }),
    });
    expect(result.outcome, log.text).toBe('canceled');
    const stage = result.timings.find((t) => t.phase === 'build_script');
    expect(stage).toMatchObject({ exitCode: 2 });
    // Forwarded to the remote script, which died at once: far from the harness's 30 s graceful-kill timeout.
    expect(stage!.seconds).toBeLessThan(15);
    expect(log.text).not.toMatch(/^after the sleep$/m);
    expect(result.timings.at(-1)).toMatchObject({ phase: 'cleanup', exitCode: 0 });
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});

describe('faults', () => {
  it('waits for a late sshd (RUNNING before the port listens) and succeeds', async () => {
    stack.emulator.setFaults({ lateSshd: { delayMs: 4_000, count: 1 } });
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo "sshd answered"'] }),
    });
    expect(result.outcome, log.text).toBe('success');
    expect(log.text).toMatch(/^sshd answered$/m);
    const prepare = result.timings.find((t) => t.phase === 'prepare')!;
    expect(prepare.seconds).toBeGreaterThanOrEqual(4);
    expect(log.text).toMatch(/Job container ready after [\d.]+ s \(SSH answered [\d.]+ s after RUNNING\)/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('falls back from FARGATE_SPOT to on-demand FARGATE when Spot has no capacity', async () => {
    await stack.rewriteDriverConfig({ fargateExtra: `${SPOT_ONLY}  OnDemandFallback = true\n` });
    stack.emulator.setFaults({ capacityUnavailable: { FARGATE_SPOT: {} } });
    const before = new Set((await describeAllTasks(stack)).map((t) => t.taskArn));
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo "on demand"'] }),
    });
    expect(result.outcome, log.text).toBe('success');
    expect(log.text).toMatch(/No Spot capacity \(.*Capacity is unavailable.*\); trying on-demand FARGATE instead/);
    const tasks = (await describeAllTasks(stack)).filter((t) => !before.has(t.taskArn));
    expect(tasks.map((t) => t.capacityProviderName)).toEqual(['FARGATE']);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('without the fallback, fails as a system failure naming the reason, with no task started', async () => {
    await stack.rewriteDriverConfig({ fargateExtra: `${SPOT_ONLY}  OnDemandFallback = false\n` });
    // Capacity is retried with backoff for as long as a task may take to start: keep that short here.
    await setDriverTimeouts(stack, { TaskStart: 10 });
    stack.emulator.setFaults({ capacityUnavailable: { FARGATE_SPOT: {} } });
    const before = (await describeAllTasks(stack)).length;
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo never'] }),
    });
    expect(result.outcome, log.text).toBe('system_failure');
    expect(result.timings.find((t) => t.phase === 'prepare')).toMatchObject({ exitCode: 2 });
    expect(log.text).toMatch(/gitlab-fargate-driver: RunTask did not start a task within 10 s .*Capacity is unavailable/);
    expect(await describeAllTasks(stack)).toHaveLength(before);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});
