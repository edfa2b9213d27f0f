import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { emfViolations } from '../../test/emf-spec.js';
import { testContext } from '../../test/context.js';
import { readyJobState } from '../../test/job-state.js';
import type { AwsClients } from '../aws/clients.js';
import { type JobState, writeState } from '../job/state.js';
import { cleanupStage } from './cleanup.js';
import { jobStatePath } from './context.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const STATE: JobState = {
  ...readyJobState,
  metrics: {
    runTaskReturnedAt: '2026-12-03T04:00:00.700Z',
    pullStartedAt: '2026-12-03T04:00:02.700Z',
    pullStoppedAt: '2026-12-03T04:00:06.100Z',
    taskStartedAt: '2026-12-03T04:00:06.900Z',
    readyAt: '2026-12-03T04:00:07.300Z',
    cpu: 1024,
    memoryMiB: 2048,
    capacity: 'FARGATE_SPOT',
    architecture: 'ARM64',
    outcome: { kind: 'script_failure', stage: 'build_script', exitCode: 3 },
  },
};

beforeEach(() => ecsMock.reset());

/** The JSON lines the stage wrote to its structured log. */
const documents = (lines: readonly string[]) => lines.filter((l) => l.startsWith('{')).map((l) => ({ line: l.trimEnd(), value: JSON.parse(l) as Record<string, unknown> }));

describe('cleanup writes one metrics document per job', () => {
  it('on its log, valid embedded metric format, with the outcome the run stages recorded, by environment tag and runner', async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    const { ctx, logs } = testContext({ fargate: '[Fargate.Tags]\n"gitlab-fargate:environment" = "staging"' });
    writeState(jobStatePath(ctx), STATE);
    await cleanupStage(ctx, { clients, sleep: async () => {} });
    const [doc, ...more] = documents(logs.lines);
    expect(more).toEqual([]);
    expect(emfViolations(doc!.line)).toEqual([]);
    expect(doc!.value).toMatchObject({
      msg: 'job metrics',
      Environment: 'staging',
      Runner: 'abc123xyz',
      Outcome: 'script_failure',
      Reason: 'script',
      exitCode: 3,
      StartFailure: 0,
      JobFailure: 1,
      StartLatency: 7.3,
      ReadinessLag: 0.4,
      capacity: 'FARGATE_SPOT',
      architecture: 'ARM64',
      project: 'group/project',
      jobId: '42',
      start: 'cold',
    });
    expect(doc!.value.Cost).toBeGreaterThan(0);
  });

  it('after a prepare that never started a task: a start failure with its reason, and no cost', async () => {
    const { ctx, logs } = testContext();
    const { taskArn: _none, address: _a, hostKey: _h, ...withoutTask } = STATE;
    writeState(jobStatePath(ctx), { ...withoutTask, metrics: { outcome: { kind: 'system_failure', stage: 'prepare', reason: 'launch' } } });
    await cleanupStage(ctx, { clients, sleep: async () => {} });
    const [doc] = documents(logs.lines);
    expect(emfViolations(doc!.line)).toEqual([]);
    expect(doc!.value).toMatchObject({ Environment: 'ci', Outcome: 'system_failure', Reason: 'launch', StartFailure: 1 });
    expect(doc!.value).not.toHaveProperty('Cost');
  });
});
