import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job, waitForNothingLeft } from '../index.js';
import { buildJobImageFixtures, type JobImageFixtures } from './job-image-fixtures.js';

// A job with image: whose run stages go through the driver's native run client: the multiplexer routes the job's
// own stages to the build container (the job agent) over a second connection, the runner's stages to the helper.
const BUILD_SCRIPT = fileURLToPath(new URL('../../../../packages/driver/native/build.sh', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../../../packages/driver/dist/native/gitlab-fargate-run', import.meta.url));

let stack: LocalStack;
let runner: RunnerSettings;
let images: JobImageFixtures;

useLocalStack(
  (started, settings) => {
    stack = started;
    // `--debug`: a stage that fell back to the Node driver would log it; the native client ignores the flag.
    const args = settings.custom.runArgs ?? [];
    runner = { ...settings, custom: { ...settings.custom, runExec: CLIENT, runArgs: ['--debug', ...args.slice(args.indexOf('--config'))] } };
  },
  { jobImages: true },
);

beforeAll(async () => {
  execFileSync(BUILD_SCRIPT, [CLIENT], { stdio: 'inherit' });
  images = await buildJobImageFixtures();
}, 900_000);

describe('a job with image: through the native run client', () => {
  it('runs its script and after_script in the job image and the runner stages in the helper, none in Node', async () => {
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({
        image: { name: images.debian },
        script: ['command -v sshd || echo "no sshd: the job image"', 'job-tool', 'exit 5'],
        afterScript: ['command -v sshd || echo "after_script in the job image too"'],
      }),
    });
    expect(result.outcome, log.text).toBe('script_failure');
    expect(result.exitCode).toBe(5);
    expect(log.text).toContain('no sshd: the job image');
    expect(log.text).toContain('job-tool ran');
    expect(log.text).toContain('after_script in the job image too');
    // get_sources ran in the helper (the ci-coordinator has git and sshd).
    expect(log.text).toContain('Created fresh repository folder');
    expect(log.text).not.toMatch(/executing the script in the job container/);
    expect(log.text).toMatch(/Fargate cost so far/);
    expect(await waitForNothingLeft(stack)).toEqual({ runningTasks: [], containers: [], metadataFiles: [] });
  });

  it('forwards SIGTERM to the whole script in a FROM scratch image, its background children too', async () => {
    const log = new CapturedLog();
    const controller = new AbortController();
    void log.waitFor(/^marker-42$/m).then(() => controller.abort());
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, signal: controller.signal,
      job: job({
        image: { name: images.scratchBusybox },
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
  });
});
