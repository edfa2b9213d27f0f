import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { expect } from 'vitest';
import { CapturedLog, discard, job, waitForNothingLeft } from '../index.js';

/**
 * Cancels a job with `image: scratchBusybox` (a FROM scratch image: busybox `sh`, no sshd) once its script runs, with
 * its run stages going the way `route` says (`custom.runExec`: the Node driver or the native run client), and checks
 * that SIGTERM reached the script and ended the stage, its background `sleep` too, and that nothing is left.
 */
export async function expectCancelledImageJobEndsOnSigterm(
  stack: LocalStack,
  route: RunnerSettings,
  scratchBusybox: string,
): Promise<void> {
  const log = new CapturedLog();
  const controller = new AbortController();
  void log.waitFor(/^marker-42$/m).then(() => controller.abort());
  const result = await runJob({
    runner: route, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, signal: controller.signal,
    job: job({
      image: { name: scratchBusybox },
      script: ['trap \'echo "TERM reached the script in the image"; exit 7\' TERM', 'echo "marker-$((6 * 7))"', 'sleep 300 & wait', 'echo "after the sleep"'],
    }),
  });
  expect(result.outcome, log.text).toBe('canceled');
  expect(log.text).toContain('TERM reached the script in the image');
  expect(log.text).not.toMatch(/^after the sleep$/m);
  const stage = result.timings.find((t) => t.phase === 'build_script');
  expect(stage).toMatchObject({ exitCode: 2 });
  // Under the 10 s grace period: the signal ended the stage. A `sleep` left running kept the channel open until the
  // client gave up (15 s) when dropbear's session shell led no process group for the cancel's kill to reach.
  expect(stage!.seconds).toBeLessThan(10);
  expect(await waitForNothingLeft(stack)).toEqual({ runningTasks: [], containers: [], metadataFiles: [] });
}
