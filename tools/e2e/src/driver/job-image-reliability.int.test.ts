import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import type { RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { ProtocolJob, StageProcess } from '../reliability/driver-stage.js';
import { noResidue, settleResidue } from '../reliability/residue.js';
import { buildJobImageFixtures, type JobImageFixtures } from './job-image-fixtures.js';

// The kill points of a job-image prepare (SIGKILL after RegisterTaskDefinition, and during the service wait), and
// gc's retirement of unused families, with the compiled driver's stage processes against the emulator.
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

/** A job whose payload names `image` and `services`, as gitlab-runner writes it. */
async function jobWith(image: string, services: readonly object[] = []): Promise<ProtocolJob> {
  const job = await ProtocolJob.create(stack, runner, { timeoutSeconds: 600 });
  const file = join(job.tmpDir, 'response.json');
  const payload = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, JSON.stringify({ ...payload, image: { name: image }, services }), { mode: 0o600 });
  return job;
}

/** cleanup, then gc (min age 0: it stops what no state names); then nothing may be left. */
async function cleanUpAfter(job: ProtocolJob): Promise<void> {
  const cleanup = await job.start('cleanup').exited;
  expect(cleanup.code, cleanup.output).toBe(0);
  const gc = await job.gc(0).exited;
  expect(gc.code, gc.output).toBe(0);
  // A service whose PID 1 ignores SIGTERM (`sh -c 'sleep 600'`) holds its task in DEPROVISIONING for the stop timeout
  // (30 s, as on ECS) before it is killed: wait for the task to go past that, on a loaded machine too.
  expect(await settleResidue(stack, [job.tmpDir], undefined, 90_000)).toEqual(noResidue);
  await job.remove();
}

describe('a job-image prepare killed', () => {
  it('with SIGKILL right after RegisterTaskDefinition leaves nothing cleanup and gc do not remove', async () => {
    const tag = `gitlab-fargate-test/job-image-scratch-busybox:kill-${Date.now()}`;
    const { execFileSync } = await import('node:child_process');
    execFileSync('docker', ['tag', images.scratchBusybox, tag]);
    try {
      const job = await jobWith(tag);
      const prepare = job.start('prepare');
      await prepare.waitFor(/task definition \S+ \(registered\)/);
      prepare.kill('SIGKILL');
      const ended = await prepare.exited;
      expect(ended.signal, ended.output).toBe('SIGKILL');
      await cleanUpAfter(job);
    } finally {
      execFileSync('docker', ['rmi', tag]);
    }
  });

  it('with SIGKILL while waiting for the services leaves nothing, task volumes included', async () => {
    const job = await jobWith(images.debian, [
      { name: images.scratchBusybox, alias: 'never-ready', entrypoint: ['/bin/sh', '-c', 'sleep 600'], ports: [{ number: 9999 }] },
    ]);
    const prepare = job.start('prepare');
    await prepare.waitFor(/Waiting for 1 service/);
    prepare.kill('SIGKILL');
    await prepare.exited;
    await cleanUpAfter(job);
  });
});

describe('gc of job-image task definition families', () => {
  it('retires a family unused for UnusedFamilyTTL (--dry-run only says so), and keeps the configured one', async () => {
    const job = await jobWith(images.ownEntrypoint);
    const prepare = await job.start('prepare').exited;
    expect(prepare.code, prepare.output).toBe(0);
    const family = /task definition (\S+) \((registered|described|cache)\)/.exec(prepare.output)?.[1] ?? '';
    expect((await job.start('cleanup').exited).code).toBe(0);
    // The default TTL is 7 days: gc runs with its clock 8 days ahead (Node's Date.now, through --import).
    const ahead = 8 * 86_400_000;
    const later = { ...job.env, NODE_OPTIONS: `--import=data:text/javascript,const%20now=Date.now;Date.now=()=>now()%2B${ahead}` };
    const dry = await new StageProcess(stack, ['gc', '--dry-run', '--min-age', '0'], job.tmpDir, later).exited;
    expect(dry.code, dry.output).toBe(0);
    expect(dry.output).toContain(`would retire task definition family ${family}`);
    const active = async () => (await stack.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:1` }))).taskDefinition?.status;
    expect(await active()).toBe('ACTIVE');
    const real = await new StageProcess(stack, ['gc', '--min-age', '0'], job.tmpDir, later).exited;
    expect(real.code, real.output).toBe(0);
    expect(real.output).toContain(`retired task definition family ${family}`);
    expect(await active()).toBe('INACTIVE');
    const template = await stack.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: stack.taskDefinition }));
    expect(template.taskDefinition?.status).toBe('ACTIVE');
    await job.remove();
  });
});
