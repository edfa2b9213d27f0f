import { DescribeTasksCommand, ECSClient, RunTaskCommand, type RunTaskCommandInput, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { type Sshd, freePort, startSshd } from '../../test/sshd-fixture.js';
import type { AwsClients } from '../aws/clients.js';
import { BuildFailure } from '../errors.js';
import { readState } from '../job/state.js';
import { cleanupStage } from './cleanup.js';
import { configStage } from './config.js';
import { jobStatePath } from './context.js';
import { prepareStage } from './prepare.js';
import { runStage } from './run.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';

/**
 * A whole job in-process: config, prepare, run ×3, cleanup. ECS is aws-sdk-client-mock; the "task" is a real sshd
 * container that the mocked RunTask starts with the public key prepare generated (as the ci-coordinator image reads
 * SSH_PUBLIC_KEY), and whose sshd comes up a second after the container, as on a slow Fargate start.
 */
describe('a job through config, prepare, run and cleanup (ECS mocked, sshd real)', () => {
  const ecsMock = mockClient(ECSClient);
  const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
  let sshd: Sshd | undefined;

  afterAll(async () => {
    await sshd?.stop();
    ecsMock.restore();
  });

  it('runs the job and leaves nothing behind', async () => {
    const port = await freePort();
    ecsMock.on(RunTaskCommand).callsFake(async (input: RunTaskCommandInput) => {
      const key = input.overrides?.containerOverrides?.[0]?.environment?.find((e) => e.name === 'SSH_PUBLIC_KEY')?.value ?? '';
      sshd = await startSshd(key, { sshdDelaySeconds: 1, hostPort: port });
      return { tasks: [{ taskArn: ARN, lastStatus: 'PROVISIONING' }] };
    });
    const running: Task = {
      taskArn: ARN,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '127.0.0.1' }] }],
      containers: [{ name: 'ci-coordinator', lastStatus: 'RUNNING' }],
    };
    ecsMock
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [], failures: [{ arn: ARN, reason: 'MISSING' }] })
      .resolvesOnce({ tasks: [{ taskArn: ARN, lastStatus: 'PENDING', desiredStatus: 'RUNNING' }] })
      .resolves({ tasks: [running] });
    ecsMock.on(StopTaskCommand).resolves({});

    const job = testContext({ sshPort: port });
    const config = configStage(job.ctx);
    expect(config.hostname).toMatch(/^abc123xyz-[0-9a-f]{16}$/);

    const state = await prepareStage(job.ctx, { clients });
    expect(state).toMatchObject({ taskArn: ARN, address: '127.0.0.1', port, hostKey: expect.stringMatching(/^AAAA/) });
    expect(readState(jobStatePath(job.ctx))).toEqual(state);
    const progress = job.progress.lines.join('');
    expect(progress).toMatch(/Starting a Fargate task from ci-job:3 in cluster ci \(on-demand FARGATE\)/);
    expect(progress).toMatch(/Task is PENDING after \d+\.\d s\n/);
    expect(progress).toMatch(/Task is RUNNING after \d+\.\d s\n/);
    expect(progress).toMatch(/Task address 127\.0\.0\.1; waiting for SSH on port \d+/);
    expect(progress).toMatch(/Job container ready after \d+\.\d s \(SSH answered \d+\.\d s after RUNNING\)/);
    // The private key went to the state file only.
    expect(job.logs.lines.join('') + progress).not.toContain('PRIVATE KEY');

    const script = (name: string, text: string) => {
      const path = join(job.cwd, name);
      writeFileSync(path, text);
      return path;
    };
    await runStage(job.ctx, script('get_sources', 'echo "sources on $(hostname)"\n'), 'get_sources');
    await runStage(job.ctx, script('step', 'echo working; echo warn >&2\n'), 'build_script');
    await expect(runStage(job.ctx, script('after', 'exit 4\n'), 'after_script')).rejects.toEqual(new BuildFailure(4));
    const [configLine, ...scriptLines] = job.output().stdout.split('\n');
    expect(JSON.parse(configLine!)).toEqual(config);
    expect(scriptLines.join('\n')).toMatch(/^sources on [0-9a-f]+\nworking\n$/);
    expect(job.output().stderr).toBe('warn\n');

    await cleanupStage(job.ctx, { clients });
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { task: ARN, reason: 'gitlab-fargate: job 42 finished (cleanup)' });
    expect(readState(jobStatePath(job.ctx))).toBeUndefined();
    expect(() => readFileSync(jobStatePath(job.ctx))).toThrow(/ENOENT/);
  });

  it('probes SSH as soon as the ENI has an address, before ECS reports RUNNING, then stops polling', async () => {
    await sshd?.stop();
    sshd = undefined;
    ecsMock.reset();
    const port = await freePort();
    ecsMock.on(RunTaskCommand).callsFake(async (input: RunTaskCommandInput) => {
      const key = input.overrides?.containerOverrides?.[0]?.environment?.find((e) => e.name === 'SSH_PUBLIC_KEY')?.value ?? '';
      sshd = await startSshd(key, { hostPort: port });
      return { tasks: [{ taskArn: ARN, lastStatus: 'PROVISIONING' }] };
    });
    // ECS lags: the task never leaves PENDING in its answers, but the ENI is attached and sshd is up.
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: ARN,
          lastStatus: 'PENDING',
          desiredStatus: 'RUNNING',
          attachments: [{ type: 'ElasticNetworkInterface', status: 'ATTACHED', details: [{ name: 'privateIPv4Address', value: '127.0.0.1' }] }],
        },
      ],
    });
    const job = testContext({ sshPort: port });
    const state = await prepareStage(job.ctx, { clients });
    expect(state.hostKey).toMatch(/^AAAA/);
    expect(job.progress.lines.join('')).toMatch(/Job container ready after \d+\.\d s \(SSH answered before ECS reported RUNNING\)/);
    const polls = ecsMock.commandCalls(DescribeTasksCommand).length;
    await new Promise((r) => setTimeout(r, 500));
    expect(ecsMock.commandCalls(DescribeTasksCommand).length).toBe(polls);
  });
});
