import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job, waitForNothingLeft } from '../index.js';
import { expectCancelledImageJobEndsOnSigterm } from '../test/cancelled-image-job.js';
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
    await expectCancelledImageJobEndsOnSigterm(stack, runner, images.scratchBusybox);
  });
});
