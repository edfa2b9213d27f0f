import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeNetworkInterfacesCommand, ModifyVpcAttributeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type RunTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Client, ecsClient } from '../../test/support/clients.js';
import { ensureSshdImage } from '../../test/support/image.js';
import { MOTO_SHIM, findMotoServer, startMoto } from '../../test/support/moto.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';
import { AWS_BEHAVIOUR, MOTO_BEHAVIOUR, type ProbeName } from './moto-differences.js';

interface Target {
  readonly name: 'emulator' | 'moto';
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  subnet: string;
  securityGroup: string;
  /** Holds new tasks in PROVISIONING (emulator only), so a time-driven lifecycle cannot move during a probe. */
  holdProvisioning?(on: boolean): void;
}

const motoBinary = findMotoServer();
const CLUSTER = 'cmp';

/** The outcome of a call, or the error class and HTTP status it failed with. */
async function observe(action: () => Promise<unknown>): Promise<unknown> {
  try {
    return await action();
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return `error ${e.$metadata?.httpStatusCode ?? '?'} ${e.name}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runOne(target: Target, input: Partial<RunTaskCommandInput> = {}): Promise<Task> {
  const out = await target.ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition: 'cmp',
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: [target.subnet], securityGroups: [target.securityGroup], assignPublicIp: 'DISABLED' } },
      ...input,
    }),
  );
  const task = out.tasks![0];
  if (!task) throw new Error(`RunTask returned no task: ${JSON.stringify(out.failures)}`);
  return task;
}

const describeOne = async (target: Target, arn: string) =>
  (await target.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!;

/** The same calls against either target, each reduced to the fact being compared. */
const PROBES: Record<ProbeName, (t: Target) => Promise<unknown>> = {
  runTaskInitialStatus: async (t) => (await runOne(t)).lastStatus,
  runTaskEniAttachment: async (t) => {
    const attachment = (await runOne(t)).attachments![0]!;
    return `${attachment.status}: ${attachment.details!.map((d) => d.name).join(',')}`;
  },
  taskIdFormat: async (t) => (/\/[0-9a-f]{32}$/.test((await runOne(t)).taskArn!) ? '32 hex' : 'other (UUID)'),
  taskSize: async (t) => {
    const task = await runOne(t);
    return `cpu=${task.cpu} memory=${task.memory}`;
  },
  platformVersion: async (t) => (await runOne(t)).platformVersion,
  capacityProviderStrategyRun: (t) =>
    observe(async () => (await runOne(t, { launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] })).capacityProviderName),
  neitherLaunchTypeNorStrategy: (t) => observe(async () => (await runOne(t, { launchType: undefined })).lastStatus),
  bothLaunchTypeAndStrategy: (t) => observe(async () => (await runOne(t, { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] })).lastStatus),
  describeUnknownTask: async (t) => {
    const out = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: ['0123456789abcdef0123456789abcdef'] }));
    return `tasks=${out.tasks!.length} failures=${out.failures!.map((f) => f.reason).join(',') || 'none'}`;
  },
  stopUnknownTask: (t) => observe(() => t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: '0123456789abcdef0123456789abcdef' }))),
  stopTaskImmediateStatus: async (t) => {
    const task = await runOne(t);
    const stopped = (await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: task.taskArn!, reason: 'cmp' }))).task!;
    return `last=${stopped.lastStatus === 'STOPPED' ? 'STOPPED' : 'not yet STOPPED'} desired=${stopped.desiredStatus} stopCode=${stopped.stopCode ?? 'none'} reason=${stopped.stoppedReason}`;
  },
  lifecycleDriver: async (t) => {
    t.holdProvisioning?.(true);
    const task = await runOne(t).finally(() => t.holdProvisioning?.(false));
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await describeOne(t, task.taskArn!)).lastStatus);
    return seen[0] === seen[1] && seen[1] === seen[2] ? 'time (unchanged across 3 quick describes)' : `describe count (${seen.join('→')})`;
  },
  containerNetworkInterfaces: async (t) => {
    const task = await runOne(t);
    let described = await describeOne(t, task.taskArn!);
    for (let i = 0; i < 100 && ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(described.lastStatus!); i++) {
      await sleep(100);
      described = await describeOne(t, task.taskArn!);
    }
    return described.containers![0]!.networkInterfaces!.length > 0 ? 'filled once RUNNING' : 'always empty';
  },
  publicIpAssociation: async (t) => {
    const task = await runOne(t, { networkConfiguration: { awsvpcConfiguration: { subnets: [t.subnet], securityGroups: [t.securityGroup], assignPublicIp: 'ENABLED' } } });
    await sleep(1000);
    const described = await describeOne(t, task.taskArn!);
    const eni = described.attachments![0]!.details!.find((d) => d.name === 'networkInterfaceId')?.value;
    if (!eni) return 'no ENI id';
    const out = await t.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }));
    return out.NetworkInterfaces![0]!.Association?.PublicIp ? 'Association.PublicIp present' : 'no Association';
  },
  clientTokenReuse: async (t) => {
    const a = await runOne(t, { clientToken: `cmp-${t.name}-1` });
    const b = await runOne(t, { clientToken: `cmp-${t.name}-1` });
    const conflict = await observe(() => runOne(t, { clientToken: `cmp-${t.name}-1`, startedBy: 'other' }));
    return `same params: ${a.taskArn === b.taskArn ? 'same task' : 'new task'}; other params: ${typeof conflict === 'string' ? conflict : 'accepted'}`;
  },
  unknownTaskDefinition: (t) => observe(() => t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope' }))),
  unknownCluster: async (t) => {
    const out = await t.ecs.send(new DescribeClustersCommand({ clusters: ['nope'] }));
    return `clusters=${out.clusters!.length} failures=${out.failures!.map((f) => f.reason).join(',')}`;
  },
  clusterNotFound: (t) => observe(() => t.ecs.send(new ListTasksCommand({ cluster: 'nope' }))),
  missingNetworkConfiguration: (t) => observe(() => runOne(t, { networkConfiguration: undefined })),
  tooManyContainers: (t) =>
    observe(async () => {
      await t.ecs.send(new RegisterTaskDefinitionCommand(smallDefinition('cmp-eleven', 11)));
      return 'registered';
    }),
  inactiveRunTask: async (t) => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(smallDefinition('cmp-retired')));
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'cmp-retired:1' }));
    return observe(async () => (await runOne(t, { taskDefinition: 'cmp-retired:1' })).lastStatus);
  },
  deleteTaskDefinitions: async (t) => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(smallDefinition('cmp-deleted')));
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'cmp-deleted:1' }));
    return observe(async () => (await t.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['cmp-deleted:1'] }))).taskDefinitions?.[0]?.status);
  },
  familiesDefaultStatus: async (t) => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(smallDefinition('cmp-fam-active')));
    await t.ecs.send(new RegisterTaskDefinitionCommand(smallDefinition('cmp-fam-inactive')));
    await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'cmp-fam-inactive:1' }));
    return observe(async () => (await t.ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'cmp-fam' }))).families!.join(','));
  },
  sameFamilyOverlap: async (t) => {
    const results = await Promise.allSettled([0, 1].map(() => t.ecs.send(new RegisterTaskDefinitionCommand(smallDefinition('cmp-overlap')))));
    return results.map((r) => (r.status === 'fulfilled' ? 'registered' : `${(r.reason as Error).name}: ${(r.reason as Error).message}`)).sort().join(',');
  },
  throttlingBurst: async (t) => {
    const results = await Promise.allSettled(Array.from({ length: 120 }, () => t.ecs.send(new ListTasksCommand({ cluster: CLUSTER }))));
    const throttled = results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ThrottlingException').length;
    return throttled > 0 ? 'ThrottlingException after the burst' : 'never throttles';
  },
};

/** A Fargate task definition of `containers` small containers (moto needs a container memory). */
function smallDefinition(family: string, containers = 1): RegisterTaskDefinitionCommandInput {
  return {
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: 'local/debian:bookworm', memory: 32, essential: i === 0 })),
  };
}

async function prepare(target: Target, image: string): Promise<void> {
  if (target.name === 'moto') {
    // moto needs a real (moto) subnet, and DNS hostnames on its VPC, or RunTask fails with an HTML 500.
    const vpc = (await target.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
    await target.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc, EnableDnsHostnames: { Value: true } }));
    target.subnet = (await target.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.20.1.0/24' }))).Subnet!.SubnetId!;
    target.securityGroup = (await target.ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: 'cmp', Description: 'cmp' }))).GroupId!;
  }
  await target.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }));
  await target.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'cmp',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      // moto needs a container memory (else a 500); the emulator's image needs the key variable.
      containerDefinitions: [
        { name: 'app', image, memory: 512, portMappings: [{ containerPort: 22 }], stopTimeout: 2, environment: [{ name: 'SSH_PUBLIC_KEY', value: 'ssh-ed25519 AAAA cmp' }] },
      ],
    }),
  );
}

const PROBE_NAMES = Object.keys(PROBES) as ProbeName[];
/** Outside CI a missing moto_server skips the moto half; in CI (CI=true) that half runs and fails, saying why. */
const skipMoto = motoBinary === undefined && process.env['CI'] !== 'true';

// Needs no moto: runs wherever Docker does.
describe('the emulator does what AWS documents (the calls compared with moto_server below)', () => {
  let emu: RunningEmulator;
  let target: Target;

  beforeAll(async () => {
    const image = ensureSshdImage();
    emu = await startEmulator({});
    target = {
      name: 'emulator',
      ecs: ecsClient(emu.endpoint),
      ec2: ec2Client(emu.endpoint),
      subnet: 'subnet-0a1b2c3d4e5f60718',
      securityGroup: 'sg-0a1b2c3d4e5f60718',
      holdProvisioning: (on) => emu.setPhases({ provisioningMs: on ? 10_000 : 100 }),
    };
    await prepare(target, image);
  });

  afterAll(async () => {
    await emu?.stop();
  });

  it.each(PROBE_NAMES)('%s', async (probe) => {
    expect(await PROBES[probe](target), 'the emulator must do what AWS documents').toEqual(AWS_BEHAVIOUR[probe]);
  });
});

describe.skipIf(skipMoto)('moto_server does what it was observed to do (the README table): the same SDK calls', () => {
  let moto: Awaited<ReturnType<typeof startMoto>> | undefined;
  let target: Target;
  const observations: Partial<Record<ProbeName, unknown>> = {};

  beforeAll(async () => {
    if (motoBinary === undefined) {
      throw new Error(`moto_server is not installed (not on PATH nor at ${MOTO_SHIM}): pip install 'moto[server]==5.2.1' (CI requires it)`);
    }
    const image = ensureSshdImage();
    moto = await startMoto(motoBinary);
    target = { name: 'moto', ecs: ecsClient(moto.endpoint), ec2: ec2Client(moto.endpoint), subnet: '', securityGroup: '' };
    await prepare(target, image);
  });

  afterAll(async () => {
    console.log(
      ['| probe | AWS (documented) | moto |', '| --- | --- | --- |', ...PROBE_NAMES.map((probe) => `| ${probe} | ${String(AWS_BEHAVIOUR[probe])} | ${String(observations[probe])} |`)].join('\n'),
    );
    await moto?.stop();
  });

  it.each(PROBE_NAMES)('%s', async (probe) => {
    const onMoto = await observe(() => PROBES[probe](target));
    observations[probe] = onMoto;
    expect(onMoto, 'moto_server changed: update the README table').toEqual(MOTO_BEHAVIOUR[probe]);
  });
});
