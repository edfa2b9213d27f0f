import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { OverrideRefused } from '../errors.js';
import { prepareStage } from '../stages/prepare.js';
import { readOverrides } from './overrides.js';
import { planLaunch } from './plan.js';

const SIZED = 'Cpu = 1024\nMemory = 2048\nEphemeralStorage = 50';
const CEILINGS = '[Overrides]\nMaxCpu = 4096\nMaxMemory = 16384\nMaxEphemeralStorage = 100';

/** The launch plan prepare would send for a driver TOML (`[Fargate]` lines, extra tables) and job variables. */
function planFor(options: { fargate?: string; extra?: string; env?: Record<string, string> }) {
  const { ctx } = testContext(options);
  const overrides = readOverrides(ctx.env.variables, ctx.config.overrides);
  return planLaunch(ctx.config, ctx.env, ctx.cli, overrides, 'ssh-ed25519 AAAA test', 'seed');
}

describe('planLaunch: task size', () => {
  it("sends [Fargate] Cpu, Memory and EphemeralStorage for every job that does not choose its own", () => {
    expect(planFor({ fargate: SIZED })).toMatchObject({ cpu: '1024', memory: '2048', ephemeralStorageGiB: 50 });
  });

  it("leaves the size to the task definition when neither the config nor the job sets one", () => {
    const plan = planFor({});
    expect(plan.cpu).toBeUndefined();
    expect(plan.memory).toBeUndefined();
    expect(plan.ephemeralStorageGiB).toBeUndefined();
  });

  it('lets allowed per-job overrides win over the configured size, each on its own', () => {
    const bigger = { CUSTOM_ENV_FARGATE_CPU: '2048', CUSTOM_ENV_FARGATE_MEMORY: '8192', CUSTOM_ENV_FARGATE_EPHEMERAL_STORAGE: '80' };
    expect(planFor({ fargate: SIZED, extra: CEILINGS, env: bigger })).toMatchObject({ cpu: '2048', memory: '8192', ephemeralStorageGiB: 80 });
    // Only memory: the configured CPU stays, and 1024 CPU units with 4096 MiB is a Fargate size.
    const memoryOnly = { CUSTOM_ENV_FARGATE_MEMORY: '4096' };
    expect(planFor({ fargate: SIZED, extra: CEILINGS, env: memoryOnly })).toMatchObject({ cpu: '1024', memory: '4096', ephemeralStorageGiB: 50 });
  });

  it('still refuses an override above its [Overrides] ceiling, whatever the configured size', () => {
    expect(() => planFor({ fargate: SIZED, extra: CEILINGS, env: { CUSTOM_ENV_FARGATE_CPU: '8192' } })).toThrow(
      /FARGATE_CPU: 8192 CPU units is above the ceiling \[Overrides\] MaxCpu = 4096/,
    );
  });

  it('refuses a job whose one half of the pair does not fit the configured other half, saying what to set', () => {
    let refused: unknown;
    try {
      planFor({ fargate: SIZED, extra: CEILINGS, env: { CUSTOM_ENV_FARGATE_CPU: '4096' } });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(OverrideRefused);
    expect((refused as OverrideRefused).message).toBe(
      'FARGATE_CPU: 4096 CPU units and 2048 MiB ([Fargate] Memory = 2048) is not a Fargate size ' +
        '(with 4096 CPU units: 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384, 17408, 18432, 19456, 20480, ' +
        '21504, 22528, 23552, 24576, 25600, 26624, 27648, 28672, 29696, 30720 MiB); set FARGATE_MEMORY as well',
    );
    expect(() => planFor({ fargate: SIZED, extra: CEILINGS, env: { CUSTOM_ENV_FARGATE_MEMORY: '16384' } })).toThrow(
      /^FARGATE_MEMORY: 1024 CPU units and 16384 MiB \(\[Fargate\] Cpu = 1024\) is not a Fargate size .*; set FARGATE_CPU as well$/,
    );
  });
});

describe('prepare: the RunTask request carries the configured size', () => {
  const ecsMock = mockClient(ECSClient);
  const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
  beforeEach(() => ecsMock.reset());
  afterAll(() => ecsMock.restore());

  it('as task-level overrides, for a job that chose nothing', async () => {
    // A permanent RunTask failure ends prepare right after the request we look at.
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'MISSING' }] });
    const { ctx } = testContext({ fargate: SIZED });
    await expect(prepareStage(ctx, { clients, sleep: async () => {} })).rejects.toThrow(/MISSING/);
    expect(ecsMock).toHaveReceivedCommandWith(RunTaskCommand, {
      overrides: expect.objectContaining({ cpu: '1024', memory: '2048', ephemeralStorage: { sizeInGiB: 50 } }),
    });
  });
});
