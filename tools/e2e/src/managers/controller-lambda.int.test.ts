import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { MANAGER_STARTED_BY } from '@gitlab-fargate/driver';
import { type RunningEmulator, startEmulator } from '@gitlab-fargate/ecs-emulator';
import { existsSync } from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// The manager controller's Lambda handler, loaded from the very file the cdk package ships as the function's code
// (packages/cdk/assets/manager-controller/index.mjs, built by the cdk's compile task), run against the ECS emulator
// with the settings ManagerController gives the function.
const ASSET = fileURLToPath(new URL('../../../../packages/cdk/assets/manager-controller/index.mjs', import.meta.url));
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];
const FAMILY = 'gitlab-fargate-dev-manager';
const CONTAINER = 'runner-manager';

interface PassSummary {
  readonly started: number;
  readonly draining: number;
  readonly stoppedManagers: number;
  readonly stoppedJobs: number;
  readonly crashed: number;
}
type Handler = () => Promise<PassSummary>;
interface ControllerAsset {
  readonly handler: Handler;
  createControllerHandler(io: { env: NodeJS.ProcessEnv; stdout: Writable; now?: () => number }): Handler;
}

let asset: ControllerAsset;
let emu: RunningEmulator;
let ecs: ECSClient;
let clusters = 0;
const savedEnv = { ...process.env };

beforeAll(async () => {
  if (!existsSync(ASSET)) {
    throw new Error(`${ASSET} is missing: build it with \`npx nx run @gitlab-fargate/cdk:build\` (or \`node scripts/bundle-controller.mjs\` in packages/cdk)`);
  }
  asset = (await import(pathToFileURL(ASSET).href)) as ControllerAsset;
  // Tasks stay in PROVISIONING: the controller goes by desired status, tags and subnets.
  emu = await startEmulator({ phases: { provisioningMs: 3_600_000 }, throttling: { enabled: false } });
  ecs = clientOf(emu);
});

afterEach(() => {
  emu.setFaults({});
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

afterAll(async () => {
  await emu?.stop();
});

const clientOf = (emulator: RunningEmulator): ECSClient =>
  new ECSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

/** Points the AWS SDK's default chain (what the function uses on Lambda) at an emulator. */
function useEmulator(emulator: RunningEmulator): void {
  Object.assign(process.env, { AWS_ENDPOINT_URL_ECS: emulator.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
}

async function register(client: ECSClient, command: string[] = ['sleep', 'infinity']): Promise<string> {
  const out = await client.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: CONTAINER, image: 'local/debian:bookworm', essential: true, command }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

/** A cluster of its own, the manager family at an old and a current revision, and the function's environment. */
interface Environment {
  readonly cluster: string;
  readonly old: string;
  readonly current: string;
  readonly env: NodeJS.ProcessEnv;
}

async function environment(client: ECSClient, command?: string[]): Promise<Environment> {
  const cluster = `lambda-${++clusters}`;
  await client.send(new CreateClusterCommand({ clusterName: cluster }));
  await client.send(new PutClusterCapacityProvidersCommand({ cluster, capacityProviders: ['FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [] }));
  const old = await register(client, command);
  const current = await register(client, command);
  const env = {
    CLUSTER: cluster, MANAGER_TASK_DEFINITION: current, MANAGER_CONTAINER_NAME: CONTAINER, MANAGER_COUNT: '2',
    MANAGER_SUBNETS: SUBNETS.join(','), MANAGER_SECURITY_GROUP_IDS: 'sg-0ccccccccccccccc3', MANAGER_ASSIGN_PUBLIC_IP: 'false',
    MANAGER_DRAIN_TIMEOUT_SECONDS: '11400',
  };
  return { cluster, old, current, env };
}

/** A handler of the shipped asset writing into `lines`. */
function handlerWith(env: NodeJS.ProcessEnv, lines: string[], now?: () => number): Handler {
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((line) => line !== '')));
  return asset.createControllerHandler({ env, stdout, ...(now ? { now } : {}) });
}

const metricsLine = (lines: readonly string[]): Record<string, unknown> => {
  const found = lines.filter((line) => line.startsWith('{"_aws"'));
  expect(found).toHaveLength(1);
  return JSON.parse(found[0]!) as Record<string, unknown>;
};

async function managers(client: ECSClient, cluster: string): Promise<Task[]> {
  const listed = await client.send(new ListTasksCommand({ cluster, family: FAMILY }));
  if ((listed.taskArns ?? []).length === 0) return [];
  return (await client.send(new DescribeTasksCommand({ cluster, tasks: listed.taskArns! }))).tasks!;
}

describe('the manager controller Lambda function (the shipped asset) against the ECS emulator', () => {
  it('runs one reconcile pass per invocation from the environment the construct gives it', async () => {
    const { cluster, current, env } = await environment(ecs);
    useEmulator(emu);
    Object.assign(process.env, env);
    expect(await asset.handler()).toEqual({ started: 2, draining: 0, stoppedManagers: 0, stoppedJobs: 0, crashed: 0 });
    const running = await managers(ecs, cluster);
    expect(running.map((task) => [task.taskDefinitionArn, task.startedBy])).toEqual([
      [current, MANAGER_STARTED_BY],
      [current, MANAGER_STARTED_BY],
    ]);
    // The next minute's invocation (a warm sandbox keeps its client) finds them running.
    expect(await asset.handler()).toMatchObject({ started: 0 });
  });

  it('logs each decision and one embedded-metric-format line with the crash count', async () => {
    const { cluster, env } = await environment(ecs);
    useEmulator(emu);
    const lines: string[] = [];
    await handlerWith(env, lines)();
    expect(lines.filter((line) => line.startsWith('started manager '))).toHaveLength(2);
    expect(lines).toContainEqual(expect.stringMatching(/^managers: 2 of gitlab-fargate-dev-manager:\d+ running \(2 started\)/));
    expect(metricsLine(lines)).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'GitLabFargate', Dimensions: [['Cluster']], Metrics: [{ Name: 'ManagerCrashes', Unit: 'Count' }] }] },
      Cluster: cluster,
      ManagerCrashes: 0,
    });
  });

  it('fails the invocation on a bad setting before any AWS call, with the line the logs are searched for', async () => {
    const { cluster, env } = await environment(ecs);
    useEmulator(emu);
    const lines: string[] = [];
    await expect(handlerWith({ ...env, MANAGER_COUNT: '0', MANAGER_SUBNETS: '' }, lines)()).rejects.toThrow(
      /MANAGER_COUNT must be a number of managers from 1 to 10, found "0"\n.*MANAGER_SUBNETS must be a comma-separated list of subnet IDs/s,
    );
    expect(lines[0]).toMatch(/^gitlab-fargate manager controller failed: managers reconcile: bad settings/);
    expect(await managers(ecs, cluster)).toEqual([]);
  });

  it('fails the invocation when an ECS call fails, after doing all it could and writing its metrics', async () => {
    const { cluster, env } = await environment(ecs);
    useEmulator(emu);
    emu.setFaults({ accessDenied: { count: 1, operations: ['RunTask'] } });
    const lines: string[] = [];
    await expect(handlerWith(env, lines)()).rejects.toThrow(/cannot start a manager in subnet-0aaaaaaaaaaaaaaa1: .*not authorized/);
    // The second slot was still filled.
    expect(await managers(ecs, cluster)).toHaveLength(1);
    expect(metricsLine(lines)).toMatchObject({ ManagerCrashes: 0 });
    expect(lines.at(-1)).toMatch(/^gitlab-fargate manager controller failed: managers reconcile: cannot start a manager/);
  });
});

describe('crash-loop detection (tasks that really start, fail and exit)', () => {
  let fast: RunningEmulator;
  let client: ECSClient;
  beforeAll(async () => {
    fast = await startEmulator({ throttling: { enabled: false } });
    client = clientOf(fast);
  });
  afterAll(async () => {
    await fast?.stop();
  });

  async function untilStopped(cluster: string, arns: readonly string[]): Promise<Task[]> {
    for (;;) {
      const tasks = (await client.send(new DescribeTasksCommand({ cluster, tasks: [...arns] }))).tasks!;
      if (tasks.length === arns.length && tasks.every((task) => task.lastStatus === 'STOPPED')) return tasks;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const runManager = async (cluster: string, taskDefinition: string, command?: string[]): Promise<string> =>
    (await client.send(
      new RunTaskCommand({
        cluster, taskDefinition, launchType: 'FARGATE', startedBy: MANAGER_STARTED_BY,
        networkConfiguration: { awsvpcConfiguration: { subnets: [SUBNETS[0]!], assignPublicIp: 'DISABLED' } },
        ...(command ? { overrides: { containerOverrides: [{ name: CONTAINER, command }] } } : {}),
      }),
    )).tasks![0]!.taskArn!;

  it('counts the current version\'s managers that failed to start or exited non-zero, and nothing else', async () => {
    // Every manager of this family exits 3 at once, like an image whose entrypoint is broken.
    const { cluster, old, env } = await environment(client, ['sh', '-c', 'exit 3']);
    useEmulator(fast);
    // The first manager the controller starts cannot even pull its image.
    fast.setFaults({ startFailure: { count: 1, error: 'CannotPullContainerError' } });
    const first: string[] = [];
    expect(await handlerWith(env, first)()).toMatchObject({ started: 2, crashed: 0 });
    const crashed = first.flatMap((line) => /^started manager ([0-9a-f-]+) /.exec(line)?.[1] ?? []);
    expect(crashed).toHaveLength(2);
    // Not crashes: an old version's manager that exits 3, a current one that drained (exit 0), one stopped by hand.
    const notCrashes = [
      await runManager(cluster, old),
      await runManager(cluster, env.MANAGER_TASK_DEFINITION!, ['true']),
      await runManager(cluster, env.MANAGER_TASK_DEFINITION!, ['sleep', 'infinity']),
    ];
    await client.send(new StopTaskCommand({ cluster, task: notCrashes[2]!, reason: 'stopped by hand' }));
    const stopped = await untilStopped(cluster, [...crashed, ...notCrashes]);
    expect(stopped.map((task) => task.stopCode).sort()).toEqual(
      ['EssentialContainerExited', 'EssentialContainerExited', 'EssentialContainerExited', 'TaskFailedToStart', 'UserInitiated'],
    );

    const lines: string[] = [];
    const second = await handlerWith(env, lines)();
    expect(second.crashed).toBe(2);
    expect(metricsLine(lines)).toMatchObject({ ManagerCrashes: 2 });
    expect((metricsLine(lines)['crashedManagers'] as string[]).sort()).toEqual([...crashed].sort());
    const crashLines = lines.filter((line) => / of the current version crashed: /.test(line));
    expect(crashLines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/crashed: TaskFailedToStart: CannotPullContainerError/),
        expect.stringMatching(/crashed: EssentialContainerExited: .*, exit code 3$/),
      ]),
    );
    expect(crashLines).toHaveLength(2);

    // Half an hour later they are out of the window: the count is a level, and it falls back.
    const later: string[] = [];
    expect(await handlerWith(env, later, () => Date.now() + 31 * 60_000)()).toMatchObject({ crashed: 0 });
    expect(metricsLine(later)).toMatchObject({ ManagerCrashes: 0 });
  });
});
