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
import {
  type ControllerSettings,
  DRAIN_STARTED_TAG,
  MANAGER_STARTED_BY,
  type ReconcileReport,
  main,
  reconcileManagers,
} from '@gitlab-fargate/driver';
import { type RunningEmulator, startEmulator } from '@gitlab-fargate/ecs-emulator';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The manager controller (`managers reconcile`) against the emulator's ECS API. Tasks stay in PROVISIONING (a long
// provisioning phase): the controller goes by desired status, tags and subnets, so no container needs to run.
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];
const MANAGER_FAMILY = 'gitlab-fargate-dev-manager';
const RUNNER = 'gitlab-fargate/AbCd1234x';
const T0 = Date.parse('2026-12-03T06:00:00Z');

let emu: RunningEmulator;
let ecs: ECSClient;
let clusters = 0;

beforeAll(async () => {
  emu = await startEmulator({ phases: { provisioningMs: 3_600_000 }, throttling: { enabled: false } });
  ecs = new ECSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});

afterAll(async () => {
  await emu?.stop();
});

async function register(family: string, containerName = 'runner-manager'): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: containerName, image: 'local/debian:bookworm', essential: true, command: ['sleep', 'infinity'] }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

/** A cluster of its own for one test, with the manager family at revisions 1 (old) and 2 (current). */
async function environment(): Promise<{ cluster: string; old: string; current: string; settings: ControllerSettings }> {
  const cluster = `managers-${++clusters}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(new PutClusterCapacityProvidersCommand({ cluster, capacityProviders: ['FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [] }));
  const old = await register(MANAGER_FAMILY);
  const current = await register(MANAGER_FAMILY);
  const settings: ControllerSettings = {
    cluster,
    taskDefinition: current,
    containerName: 'runner-manager',
    count: 2,
    subnets: SUBNETS,
    securityGroups: ['sg-0ccccccccccccccc3'],
    assignPublicIp: false,
    drainTimeoutSeconds: 3 * 3600 + 600,
    drainSettleSeconds: 300,
  };
  return { cluster, old, current, settings };
}

async function runTask(
  cluster: string, taskDefinition: string, extra: { startedBy?: string; manager?: string; subnet?: string } = {},
): Promise<string> {
  const out = await ecs.send(
    new RunTaskCommand({
      cluster,
      taskDefinition,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: [extra.subnet ?? SUBNETS[0]!], assignPublicIp: 'DISABLED' } },
      ...(extra.startedBy !== undefined ? { startedBy: extra.startedBy } : {}),
      ...(extra.manager !== undefined ? { tags: [{ key: 'gitlab-fargate:manager', value: extra.manager }] } : {}),
    }),
  );
  return out.tasks![0]!.taskArn!;
}

/** A job task as a driver in manager `managerArn` starts it: the runner's startedBy and the manager tag. */
const jobOf = async (cluster: string, managerArn: string): Promise<string> =>
  runTask(cluster, await register('gitlab-fargate-dev-job', 'ci-coordinator'), { startedBy: RUNNER, manager: idOf(managerArn) });

const idOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

async function describe_(cluster: string, arns: readonly string[]): Promise<Task[]> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [...arns], include: ['TAGS'] }));
  return out.tasks!;
}

async function desired(cluster: string, arns: readonly string[]): Promise<string[]> {
  const tasks = await describe_(cluster, arns);
  return arns.map((arn) => tasks.find((task) => task.taskArn === arn)?.desiredStatus ?? 'MISSING');
}

const reconcile = (settings: ControllerSettings, at: number): Promise<ReconcileReport> =>
  reconcileManagers(ecs, settings, { now: () => at });

const subnetOf = (task: Task): string | undefined =>
  task.attachments?.[0]?.details?.find((detail) => detail.name === 'subnetId')?.value;

describe('managers reconcile against the ECS emulator', () => {
  it('starts the missing managers of the current version, one per subnet, and then leaves them be', async () => {
    const { cluster, current, settings } = await environment();
    const first = await reconcile(settings, T0);
    expect(first.started).toHaveLength(2);
    const started = await describe_(cluster, first.started);
    expect(started.map(subnetOf).sort()).toEqual([...SUBNETS].sort());
    for (const task of started) {
      expect(task).toMatchObject({ taskDefinitionArn: current, startedBy: MANAGER_STARTED_BY, capacityProviderName: 'FARGATE' });
      expect(task.overrides?.containerOverrides).toEqual([
        { name: 'runner-manager', environment: [{ name: 'GITLAB_FARGATE_MANAGER_VERSION', value: current }] },
      ]);
    }
    expect(await reconcile(settings, T0 + 60_000)).toMatchObject({ started: [], waiting: [], stoppedManagers: [], stoppedJobs: [] });
  });

  it('starts each missing manager once when two passes run at the same time (EventBridge delivers at least once)', async () => {
    const { cluster, current, settings } = await environment();
    const [first, second] = await Promise.all([reconcile(settings, T0), reconcile(settings, T0 + 1_000)]);
    expect(new Set([...first.started, ...second.started]).size).toBe(2);
    const listed = await ecs.send(new ListTasksCommand({ cluster, family: MANAGER_FAMILY }));
    expect(listed.taskArns).toHaveLength(2);
    expect((await describe_(cluster, listed.taskArns!)).every((task) => task.taskDefinitionArn === current)).toBe(true);
  });

  it("keeps an old manager while its job tasks run, then stops it once they are gone, and never before the settle time", async () => {
    const { cluster, old, settings } = await environment();
    const busy = await runTask(cluster, old, { startedBy: MANAGER_STARTED_BY });
    const idle = await runTask(cluster, old, { startedBy: MANAGER_STARTED_BY, subnet: SUBNETS[1] });
    const job = await jobOf(cluster, busy);

    const first = await reconcile(settings, T0);
    expect(first.started).toHaveLength(2);
    expect(first.waiting.sort()).toEqual([idOf(busy), idOf(idle)].sort());
    const tagged = await describe_(cluster, [busy, idle]);
    for (const task of tagged) expect(task.tags).toContainEqual({ key: DRAIN_STARTED_TAG, value: '2026-12-03T06:00:00Z' });

    // Past the settle time: the idle one has drained; the busy one still runs a job.
    const second = await reconcile(settings, T0 + 301_000);
    expect(second).toMatchObject({ started: [], waiting: [idOf(busy)], stoppedManagers: [idOf(idle)], stoppedJobs: [] });
    expect(await desired(cluster, [busy, idle, job])).toEqual(['RUNNING', 'STOPPED', 'RUNNING']);

    await ecs.send(new StopTaskCommand({ cluster, task: job, reason: 'the job finished' }));
    const third = await reconcile(settings, T0 + 600_000);
    expect(third).toMatchObject({ waiting: [], stoppedManagers: [idOf(busy)], stoppedJobs: [] });
    expect(await desired(cluster, [busy])).toEqual(['STOPPED']);
  });

  it('stops an old manager and its job tasks once its drain deadline has passed', async () => {
    const { cluster, old, settings } = await environment();
    const manager = await runTask(cluster, old, { startedBy: MANAGER_STARTED_BY });
    const job = await jobOf(cluster, manager);
    expect((await reconcile(settings, T0)).waiting).toEqual([idOf(manager)]);
    const justBefore = await reconcile(settings, T0 + (settings.drainTimeoutSeconds - 1) * 1000);
    expect(justBefore.waiting).toEqual([idOf(manager)]);
    expect(await desired(cluster, [manager, job])).toEqual(['RUNNING', 'RUNNING']);

    const atDeadline = await reconcile(settings, T0 + settings.drainTimeoutSeconds * 1000);
    expect(atDeadline).toMatchObject({ waiting: [], stoppedManagers: [idOf(manager)], stoppedJobs: [idOf(job)] });
    expect(await desired(cluster, [manager, job])).toEqual(['STOPPED', 'STOPPED']);
  });

  it("replaces a manager that died and stops its job tasks at once, touching no one else's tasks", async () => {
    const { cluster, settings } = await environment();
    const [dying, survivor] = (await reconcile(settings, T0)).started.map((id) => `${id}`) as [string, string];
    const [dyingArn, survivorArn] = (await describe_(cluster, [dying, survivor])).map((task) => task.taskArn!) as [string, string];
    const orphaned = await jobOf(cluster, dyingArn);
    const survivorsJob = await jobOf(cluster, survivorArn);
    // Another runner in the same cluster: its manager (another family) has stopped too.
    const otherManager = await runTask(cluster, await register('someone-elses-manager'));
    const otherJob = await jobOf(cluster, otherManager);
    const untagged = await runTask(cluster, await register('gitlab-fargate-dev-job', 'ci-coordinator'), { startedBy: RUNNER });
    // Another environment: its own cluster, with an old manager of the same family and its job.
    const elsewhere = await environment();
    const elsewhereManager = await runTask(elsewhere.cluster, elsewhere.old, { startedBy: MANAGER_STARTED_BY });
    const elsewhereJob = await jobOf(elsewhere.cluster, elsewhereManager);
    await ecs.send(new StopTaskCommand({ cluster, task: dyingArn, reason: 'Essential container in task exited' }));
    await ecs.send(new StopTaskCommand({ cluster, task: otherManager, reason: 'Essential container in task exited' }));

    const report = await reconcile(settings, T0 + 60_000);
    expect(report).toMatchObject({ waiting: [], stoppedManagers: [], stoppedJobs: [idOf(orphaned)] });
    expect(report.started).toHaveLength(1);
    const [replacement] = await describe_(cluster, report.started);
    const [survivorTask] = await describe_(cluster, [survivorArn]);
    expect(subnetOf(replacement!)).not.toBe(subnetOf(survivorTask!));
    expect(await desired(cluster, [orphaned, survivorArn, survivorsJob, otherJob, untagged])).toEqual(['STOPPED', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    expect(await desired(elsewhere.cluster, [elsewhereManager, elsewhereJob])).toEqual(['RUNNING', 'RUNNING']);
  });

  it('drains the managers beyond a lowered count like old ones: the idle one goes after the settle time, none is started', async () => {
    const { cluster, settings } = await environment();
    const three = await reconcile({ ...settings, count: 3 }, T0);
    expect(three.started).toHaveLength(3);
    const arns = (await describe_(cluster, three.started)).map((task) => task.taskArn!);
    const [busy] = arns as [string];
    const job = await jobOf(cluster, busy);

    const lowered = await reconcile(settings, T0 + 60_000);
    expect(lowered.started).toEqual([]);
    expect(lowered.surplus).toHaveLength(1);
    const [surplus] = lowered.surplus as [string];
    expect(surplus).not.toBe(idOf(busy));
    expect(lowered.waiting).toEqual([surplus]);
    const [tagged] = await describe_(cluster, [surplus]);
    expect(tagged!.tags).toContainEqual({ key: DRAIN_STARTED_TAG, value: '2026-12-03T06:01:00Z' });

    // Past the settle time it has no job task: stopped, like an old manager; the other two and the job run on.
    const settled = await reconcile(settings, T0 + 60_000 + 301_000);
    expect(settled).toMatchObject({ started: [], surplus: [surplus], waiting: [], stoppedManagers: [surplus], stoppedJobs: [] });
    const kept = arns.filter((arn) => idOf(arn) !== surplus);
    expect(await desired(cluster, [...kept, job])).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(await reconcile(settings, T0 + 600_000)).toMatchObject({ started: [], surplus: [], waiting: [], stoppedManagers: [] });
  });

  it('keeps a busy surplus manager until its jobs end or its drain deadline, then stops it with its job tasks', async () => {
    const { cluster, settings } = await environment();
    const started = (await reconcile(settings, T0)).started;
    const [first, second] = (await describe_(cluster, started)).map((task) => task.taskArn!) as [string, string];
    const firstJobs = [await jobOf(cluster, first), await jobOf(cluster, first)];
    const secondJob = await jobOf(cluster, second);
    const one = { ...settings, count: 1 };

    // The one with fewer job tasks drains; the other keeps its jobs.
    expect(await reconcile(one, T0 + 60_000)).toMatchObject({ started: [], surplus: [idOf(second)], waiting: [idOf(second)] });
    expect(await reconcile(one, T0 + 60_000 + 301_000)).toMatchObject({ waiting: [idOf(second)], stoppedManagers: [] });
    const deadline = T0 + 60_000 + settings.drainTimeoutSeconds * 1000;
    expect(await reconcile(one, deadline)).toMatchObject({ waiting: [], stoppedManagers: [idOf(second)], stoppedJobs: [idOf(secondJob)] });
    expect(await desired(cluster, [second, secondJob, first, ...firstJobs])).toEqual(['STOPPED', 'STOPPED', 'RUNNING', 'RUNNING', 'RUNNING']);
  });

  it('starts a new manager when a lowered count is raised again: the drained one keeps draining to its deadline', async () => {
    const { cluster, settings } = await environment();
    const started = (await reconcile(settings, T0)).started;
    const [first, second] = (await describe_(cluster, started)).map((task) => task.taskArn!) as [string, string];
    await jobOf(cluster, first);
    await jobOf(cluster, first);
    const secondJob = await jobOf(cluster, second);
    const draining = { surplus: [idOf(second)], waiting: [idOf(second)] };
    expect(await reconcile({ ...settings, count: 1 }, T0 + 60_000)).toMatchObject({ started: [], ...draining });

    // Back to 2: the tagged one takes no job (its runner and keeper drain on the tag), so a new one starts.
    const raised = await reconcile(settings, T0 + 120_000);
    expect(raised).toMatchObject(draining);
    expect(raised.started).toHaveLength(1);
    expect(await reconcile(settings, T0 + 180_000)).toMatchObject({ started: [], ...draining });
    const deadline = T0 + 60_000 + settings.drainTimeoutSeconds * 1000;
    const stopped = { stoppedManagers: [idOf(second)], stoppedJobs: [idOf(secondJob)] };
    expect(await reconcile(settings, deadline)).toMatchObject({ started: [], ...stopped });
    expect(await desired(cluster, [second, secondJob, first])).toEqual(['STOPPED', 'STOPPED', 'RUNNING']);
  });

  it('runs as `gitlab-fargate-driver managers reconcile` with the settings the CDK construct puts in its environment', async () => {
    const { cluster, current } = await environment();
    const sdk = { AWS_ENDPOINT_URL_ECS: emu.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };
    const saved = Object.fromEntries(Object.keys(sdk).map((name) => [name, process.env[name]]));
    Object.assign(process.env, sdk);
    const stdout = new PassThrough();
    const lines: string[] = [];
    stdout.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    try {
      const env = {
        CLUSTER: cluster, MANAGER_TASK_DEFINITION: current, MANAGER_CONTAINER_NAME: 'runner-manager', MANAGER_COUNT: '1',
        MANAGER_SUBNETS: SUBNETS.join(','), MANAGER_SECURITY_GROUP_IDS: 'sg-0ccccccccccccccc3', MANAGER_ASSIGN_PUBLIC_IP: 'false',
        MANAGER_DRAIN_TIMEOUT_SECONDS: '11400',
      };
      const code = await main({ argv: ['managers', 'reconcile'], env, cwd: '/', stdout, stderr: process.stderr, stdoutFd: 1, stderrFd: 2, signal: new AbortController().signal });
      expect(code).toBe(0);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(lines.join('')).toMatch(/^started manager [0-9a-f-]+ \(gitlab-fargate-dev-manager:\d+\) in subnet-0aaaaaaaaaaaaaaa1$/m);
    expect(lines.join('')).toContain('managers: 1 of gitlab-fargate-dev-manager:');
  });
});
