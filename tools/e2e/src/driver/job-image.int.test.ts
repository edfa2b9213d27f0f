import { ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type JobSpec, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, describeAllTasks, discard, job, waitForNothingLeft } from '../index.js';
import { expectCancelledImageJobEndsOnSigterm } from '../test/cancelled-image-job.js';
import { buildJobImageFixtures, type JobImageFixtures } from './job-image-fixtures.js';

// Whole jobs with `image:` and `services:` through the runner harness, the compiled driver, the ECS emulator's
// multi-container tasks, the real ci-coordinator (helper) and job-agent images, and job images built here.
let stack: LocalStack;
let runner: RunnerSettings;
let images: JobImageFixtures;

useLocalStack(
  (started, settings) => {
    stack = started;
    runner = settings;
  },
  { jobImages: true },
);

beforeAll(async () => {
  images = await buildJobImageFixtures();
}, 900_000);

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };

async function run(spec: JobSpec): Promise<{ outcome: string; log: string; exitCode?: number }> {
  const log = new CapturedLog();
  const result = await runJob({ runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1, job: spec });
  return { outcome: result.outcome, log: log.text, ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }) };
}

async function taskCount(): Promise<number> {
  return (await describeAllTasks(stack)).length;
}

describe('a job with image:', () => {
  it('runs its own stages in a FROM scratch busybox image (sh detected), the runner stages in the helper', async () => {
    const { outcome, log } = await run(
      job({
        image: { name: images.scratchBusybox },
        script: ['echo "uid=$(id -u)"', 'test ! -e /bin/bash && test ! -e /usr/sbin/sshd && echo "no bash, no sshd: the job image"', 'test -d "$CI_PROJECT_DIR" && echo "sources from the helper are here"', 'exit 4'],
        afterScript: ['echo "after_script in the image: $(test -e /bin/bash || echo without bash)"'],
      }),
    );
    expect(outcome, log).toBe('script_failure');
    expect(log).toContain('uid=0');
    expect(log).toContain('no bash, no sshd: the job image');
    expect(log).toContain('sources from the helper are here');
    expect(log).toContain('after_script in the image: without bash');
    expect(log).toMatch(/Job image .*scratch-busybox.*: task definition .*-job-[0-9a-f]{16} \(registered\)/);
    // prepare_script, get_sources ran in the helper (the ci-coordinator has bash and sshd).
    expect(log).toContain('Created fresh repository folder');
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('runs in Debian without sshd or git, with bash and the image PATH', async () => {
    const { outcome, log } = await run(
      job({
        image: { name: images.debian },
        script: ['command -v git || echo "no git"', 'command -v sshd || echo "no sshd"', 'job-tool', 'echo "bash ${BASH_VERSION%%.*}"'],
      }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toContain('no git');
    expect(log).toContain('no sshd');
    expect(log).toContain('job-tool ran');
    expect(log).toMatch(/bash \d/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('runs as uid 1000 with docker: user: "1000" and reads what the helper put in the builds dir', async () => {
    const { outcome, log } = await run(
      job({
        image: { name: images.user1000, user: '1000' },
        script: ['echo "uid=$(id -u)"', 'ls -ld "$CI_PROJECT_DIR"', 'test -r "$CI_PROJECT_DIR" && test -x "$CI_PROJECT_DIR" && echo "builds dir readable"'],
      }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toContain('uid=1000');
    expect(log).toContain('builds dir readable');
  });

  it("ignores the image's own ENTRYPOINT", async () => {
    const { outcome, log } = await run(
      job({ image: { name: images.ownEntrypoint }, script: [`test ! -e ${images.ownEntrypointMarker} && echo "own entrypoint not run"`] }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toContain('own entrypoint not run');
  });
});

describe('a cancelled job with image:', () => {
  it('forwards SIGTERM to the script in a FROM scratch image (busybox sh), as on the helper, and leaves nothing', async () => {
    await expectCancelledImageJobEndsOnSigterm(stack, runner, images.scratchBusybox);
  });
});

describe('a job with services:', () => {
  it('reaches Postgres with psql -h <alias>, a second service beside it, and reports one that exited', async () => {
    const { outcome, log } = await run(
      job({
        image: { name: images.debian },
        services: [
          { name: images.postgres, alias: 'db', variables: { POSTGRES_PASSWORD: 'pw' } },
          { name: images.scratchBusybox, alias: 'web', entrypoint: ['/bin/busybox'], command: ['nc', '-ll', '-p', '8080', '-e', '/bin/busybox', 'echo', 'hello from web'] },
          { name: images.debian, alias: 'quitter', entrypoint: ['/bin/sh', '-c', 'exit 3'] },
        ],
        script: ['PGPASSWORD=pw psql -h db -U postgres -tAc "select 40 + 2"', 'exec 3<>/dev/tcp/web/8080 && echo "web answered: $(head -n1 <&3)"'],
      }),
    );
    expect(outcome, log).toBe('success');
    expect(log).toMatch(/Service svc-0 \(.*postgres-fixture.*\) is ready on port 5432/);
    expect(log).toMatch(/Service svc-1 \(.*scratch-busybox.*\) is running/);
    expect(log).toMatch(/Service svc-2 \(.*job-image-debian.*\) exited with exit code 3/);
    expect(log).toMatch(/^42$/m);
    expect(log).toContain('web answered: hello from web');
    // busybox nc as PID 1 ignores SIGTERM: ECS (and the emulator) kill it after the container's 30 s stop timeout.
    expect(await waitForNothingLeft(stack, 60_000)).toEqual(nothingLeft);
  });

  it('refuses two services on one port at prepare, naming both, before any task', async () => {
    const before = await taskCount();
    const { outcome, log } = await run(
      job({ image: { name: images.debian }, services: [{ name: images.postgres, alias: 'a' }, { name: images.postgres, alias: 'b' }], script: ['true'] }),
    );
    expect(outcome, log).toBe('system_failure');
    expect(log).toMatch(/svc-0|services\[0\]/);
    expect(log).toMatch(/svc-1|services\[1\]/);
    expect(await taskCount()).toBe(before);
  });

  it("refuses overrides over ECS's 8 192 characters at prepare, naming the limit", async () => {
    const before = await taskCount();
    const { outcome, log } = await run(
      job({ image: { name: images.debian }, services: [{ name: images.postgres, variables: { HUGE: 'x'.repeat(9000) } }], script: ['true'] }),
    );
    expect(outcome, log).toBe('system_failure');
    expect(log).toContain("over ECS's limit of 8192");
    expect(await taskCount()).toBe(before);
  });
});

describe('the allow-list', () => {
  it('fails a refused image before any RunTask, naming it and the patterns', async () => {
    await stack.rewriteDriverConfig({ jobImagesExtra: '  AllowedImages = ["gitlab-fargate-test/job-image-debian:*"]\n' });
    const before = await taskCount();
    const { outcome, log } = await run(job({ image: { name: images.scratchBusybox }, script: ['true'] }));
    expect(outcome, log).toBe('system_failure');
    expect(log).toContain(images.scratchBusybox);
    expect(log).toContain('gitlab-fargate-test/job-image-debian:*');
    expect(await taskCount()).toBe(before);
  });
});

describe('task definitions', () => {
  it('20 parallel jobs on one new image make exactly one RegisterTaskDefinition', async () => {
    const tag = `gitlab-fargate-test/job-image-scratch-busybox:parallel-${Date.now()}`;
    const { execFileSync } = await import('node:child_process');
    execFileSync('docker', ['tag', images.scratchBusybox, tag]);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => run(job({ image: { name: tag }, script: ['echo "parallel ok"'] }))));
      for (const result of results) expect(result.outcome, result.log).toBe('success');
      const family = /task definition (\S+-job-[0-9a-f]{16})/.exec(results[0]?.log ?? '')?.[1] ?? '';
      const sources = results.map((result) => /task definition \S+ \((\w+)\)/.exec(result.log)?.[1]);
      expect(sources.filter((source) => source === 'registered')).toHaveLength(1);
      const arns: string[] = [];
      for (const status of ['ACTIVE', 'INACTIVE'] as const) {
        const page = await stack.ecs.send(new ListTaskDefinitionsCommand({ status, maxResults: 100 }));
        arns.push(...(page.taskDefinitionArns ?? []).filter((arn) => arn.includes(`/${family}:`)));
      }
      // One revision in the family: one RegisterTaskDefinition reached ECS.
      expect(arns.map((arn) => arn.split(':').pop())).toEqual(['1']);
      expect(await waitForNothingLeft(stack, 60_000)).toEqual(nothingLeft);
    } finally {
      execFileSync('docker', ['rmi', tag]);
    }
  }, 900_000);
});
