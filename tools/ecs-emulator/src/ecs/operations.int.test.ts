import {
  ClientException,
  ClusterContainsTasksException,
  ClusterNotFoundException,
  ConflictException,
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSServiceException,
  InvalidParameterException,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  PlatformUnknownException,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  ResourceNotFoundException,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  paginateListTasks,
  type ECSClient,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient, registerFargateTaskDefinition } from '../../test/support/clients.js';
import { ensureSshdImage } from '../../test/support/image.js';
import { isStopped, waitForTask } from '../../test/support/waiting.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';

const CLUSTER = 'ops';

describe('ECS operations through @aws-sdk/client-ecs', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;
  let image: string;

  beforeAll(async () => {
    image = ensureSshdImage();
    // Long phases keep tasks in PROVISIONING, so these tests create no containers unless they wait for them.
    emu = await startEmulator({ phases: { provisioningMs: 60_000 } });
    ecs = ecsClient(emu.endpoint);
  });

  afterAll(async () => {
    await emu?.stop();
  });

  const run = (input: Partial<RunTaskCommandInput> = {}) =>
    ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'web', launchType: 'FARGATE', networkConfiguration: awsvpc(), ...input }));

  it('creates, describes and (re)configures clusters', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, tags: [{ key: 'team', value: 'ci' }] }));
    expect(created.cluster).toMatchObject({
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ops',
      clusterName: CLUSTER,
      status: 'ACTIVE',
      runningTasksCount: 0,
      capacityProviders: [],
    });
    const again = await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    expect(again.cluster!.clusterArn).toBe(created.cluster!.clusterArn);

    const described = await ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER, 'nope'], include: ['TAGS'] }));
    expect(described.clusters!.map((c) => c.clusterName)).toEqual([CLUSTER]);
    expect(described.clusters![0]!.tags).toEqual([{ key: 'team', value: 'ci' }]);
    expect(described.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/nope', reason: 'MISSING' }]);

    const put = await ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: CLUSTER,
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }],
      }),
    );
    expect(put.cluster!.defaultCapacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }]);
    await expect(
      ecs.send(new PutClusterCapacityProvidersCommand({ cluster: CLUSTER, capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] })),
    ).rejects.toThrow(InvalidParameterException);
    await expect(ecs.send(new DescribeTasksCommand({ cluster: 'nope', tasks: ['x'] }))).rejects.toBeInstanceOf(ClusterNotFoundException);
  });

  it('registers, describes, lists and deregisters task definitions with Fargate validation', async () => {
    const first = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '0.5 vCPU',
        memory: '1 GB',
        containerDefinitions: [{ name: 'app', image, portMappings: [{ containerPort: 22 }] }],
        tags: [{ key: 'owner', value: 'ops' }],
      }),
    );
    expect(first.taskDefinition).toMatchObject({
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
      revision: 1,
      status: 'ACTIVE',
      cpu: '512',
      memory: '1024',
      compatibilities: ['EC2', 'FARGATE'],
    });
    expect(first.taskDefinition!.containerDefinitions![0]).toMatchObject({ essential: true, cpu: 0, portMappings: [{ containerPort: 22, hostPort: 22, protocol: 'tcp' }] });
    expect(first.taskDefinition!.registeredAt).toBeInstanceOf(Date);
    await registerFargateTaskDefinition(ecs, 'web', image);

    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web', include: ['TAGS'] }));
    expect(latest.taskDefinition!.revision).toBe(2);
    const byRevision = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:1', include: ['TAGS'] }));
    expect(byRevision.tags).toEqual([{ key: 'owner', value: 'ops' }]);

    const unknown = ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope' }));
    await expect(unknown).rejects.toBeInstanceOf(ClientException);
    await expect(unknown).rejects.toThrow('Unable to describe task definition.');
    const badSize = ecs.send(new RegisterTaskDefinitionCommand({ family: 'x', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '4096', containerDefinitions: [{ name: 'a', image }] }));
    await expect(badSize).rejects.toThrow(/No Fargate configuration exists for given values: 256 CPU, 4096 memory/);
    await expect(
      ecs.send(new RegisterTaskDefinitionCommand({ family: 'x', requiresCompatibilities: ['FARGATE'], networkMode: 'bridge', cpu: '256', memory: '512', containerDefinitions: [{ name: 'a', image }] })),
    ).rejects.toThrow(/Fargate only supports network mode 'awsvpc'/);

    const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'web', sort: 'DESC' }));
    expect(listed.taskDefinitionArns).toEqual([
      'arn:aws:ecs:us-east-1:123456789012:task-definition/web:2',
      'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
    ]);
    const deregistered = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:1' }));
    expect(deregistered.taskDefinition!.status).toBe('INACTIVE');
    expect(deregistered.taskDefinition!.deregisteredAt).toBeInstanceOf(Date);
    expect((await ecs.send(new ListTaskDefinitionsCommand({ status: 'INACTIVE' }))).taskDefinitionArns).toEqual(['arn:aws:ecs:us-east-1:123456789012:task-definition/web:1']);
    // INACTIVE revisions stay describable but cannot run.
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:1' }))).taskDefinition!.status).toBe('INACTIVE');
    const inactive = run({ taskDefinition: 'web:1' });
    await expect(inactive).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(inactive).rejects.toThrow('TaskDefinition is inactive');
  });

  it('runs tasks with overrides, tags, startedBy and group, and lists them by every filter', async () => {
    const out = await run({
      count: 3,
      startedBy: 'runner/abc_1',
      group: 'ci-jobs',
      tags: [{ key: 'job', value: '7' }],
      propagateTags: 'TASK_DEFINITION',
      overrides: {
        cpu: '1024',
        memory: '4096',
        ephemeralStorage: { sizeInGiB: 30 },
        taskRoleArn: 'arn:aws:iam::123456789012:role/job',
        containerOverrides: [{ name: 'ci-coordinator', command: ['sleep', '1'], environment: [{ name: 'A', value: '1' }] }],
      },
    });
    expect(out.failures).toEqual([]);
    expect(out.tasks).toHaveLength(3);
    const task = out.tasks![0]!;
    expect(task.taskArn).toMatch(/^arn:aws:ecs:us-east-1:123456789012:task\/ops\/[0-9a-f]{32}$/);
    expect(task).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      cpu: '1024',
      memory: '4096',
      group: 'ci-jobs',
      startedBy: 'runner/abc_1',
      ephemeralStorage: { sizeInGiB: 30 },
      overrides: { taskRoleArn: 'arn:aws:iam::123456789012:role/job', containerOverrides: [{ name: 'ci-coordinator', command: ['sleep', '1'] }] },
    });
    expect(task.containers![0]).toMatchObject({ name: 'ci-coordinator', lastStatus: 'PENDING', cpu: '0', networkInterfaces: [] });

    const tags = await ecs.send(new ListTagsForResourceCommand({ resourceArn: task.taskArn! }));
    expect(tags.tags).toEqual([{ key: 'job', value: '7' }]);
    const withTags = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [task.taskArn!], include: ['TAGS'] }));
    expect(withTags.tasks![0]!.tags).toEqual([{ key: 'job', value: '7' }]);

    const byStarter = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'runner/abc_1' }));
    expect(byStarter.taskArns!.sort()).toEqual(out.tasks!.map((t) => t.taskArn).sort());
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: 'web' }))).taskArns).toHaveLength(3);
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: 'other' }))).taskArns).toEqual([]);
    await expect(ecs.send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'x', family: 'web' }))).rejects.toBeInstanceOf(InvalidParameterException);

    const pages: string[][] = [];
    for await (const page of paginateListTasks({ client: ecs, pageSize: 2 }, { cluster: CLUSTER })) pages.push(page.taskArns ?? []);
    expect(pages.map((p) => p.length)).toEqual([2, 1]);

    const stop = await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: task.taskArn!.split('/').pop()! }));
    expect(stop.task).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus: 'STOPPED' }))).taskArns).toEqual([task.taskArn]);
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER }))).taskArns).toHaveLength(2);
    await waitForTask(ecs, CLUSTER, task.taskArn!, isStopped);
    await expect(ecs.send(new DeleteClusterCommand({ cluster: CLUSTER }))).rejects.toBeInstanceOf(ClusterContainsTasksException);
    for (const other of out.tasks!.slice(1)) await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: other.taskArn! }));
  });

  it('rejects RunTask requests the way AWS does', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'bare' }));
    const expectations: [Partial<RunTaskCommandInput>, new (...args: never[]) => Error, string | RegExp][] = [
      [{ cluster: 'bare', launchType: undefined }, InvalidParameterException, 'No Container Instances were found in your cluster.'],
      [{ launchType: 'EC2' }, InvalidParameterException, 'No Container Instances were found in your cluster.'],
      [{ capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, InvalidParameterException, /Specifying both a launch type and capacity provider strategy/],
      [{ cluster: 'bare', launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, InvalidParameterException, /not associated with the cluster/],
      [{ networkConfiguration: undefined }, InvalidParameterException, `Network Configuration must be provided when networkMode 'awsvpc' is specified.`],
      [{ count: 11 }, InvalidParameterException, /count/],
      [{ taskDefinition: 'missing' }, ClientException, 'Unable to describe task definition.'],
      [{ cluster: 'gone' }, ClusterNotFoundException, 'Cluster not found.'],
      [{ platformVersion: '9.9.9' }, PlatformUnknownException, /platform/],
      [{ overrides: { containerOverrides: [{ name: 'nope' }] } }, InvalidParameterException, 'Override for container named nope is not a container in the TaskDefinition.'],
      [{ overrides: { cpu: '256', memory: '8192' } }, ClientException, /No Fargate configuration exists/],
      [{ propagateTags: 'SERVICE' }, InvalidParameterException, /SERVICE/],
      [{ startedBy: 'has space' }, InvalidParameterException, /startedBy/],
      [{ tags: [{ key: 'aws:reserved', value: 'x' }] }, InvalidParameterException, /reserved/],
    ];
    for (const [input, type, message] of expectations) {
      const attempt = run(input);
      await expect(attempt, JSON.stringify(input)).rejects.toBeInstanceOf(type);
      await expect(attempt, JSON.stringify(input)).rejects.toThrow(message);
    }
    const stopUnknown = ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: 'ffffffffffffffffffffffffffffffff' }));
    await expect(stopUnknown).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(stopUnknown).rejects.toThrow('The referenced task was not found.');
  });

  it('replays a clientToken with the same parameters and refuses it with others (ConflictException.resourceIds)', async () => {
    const first = await run({ clientToken: 'job-99-attempt-1', count: 2 });
    const replay = await run({ clientToken: 'job-99-attempt-1', count: 2 });
    expect(replay.tasks!.map((t) => t.taskArn)).toEqual(first.tasks!.map((t) => t.taskArn));
    const conflict = await run({ clientToken: 'job-99-attempt-1', count: 1 }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(ConflictException);
    expect((conflict as ConflictException).resourceIds!.sort()).toEqual(first.tasks!.map((t) => t.taskArn).sort());
    // The SDK's own retries of one send() reuse its auto-filled token, so they never duplicate a task either.
    for (const task of first.tasks!) await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: task.taskArn! }));
  });

  it('tags and untags clusters, task definitions and tasks', async () => {
    const cluster = 'arn:aws:ecs:us-east-1:123456789012:cluster/ops';
    await ecs.send(new TagResourceCommand({ resourceArn: cluster, tags: [{ key: 'team', value: 'platform' }, { key: 'env', value: 'dev' }] }));
    await ecs.send(new UntagResourceCommand({ resourceArn: cluster, tagKeys: ['env'] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: cluster }))).tags).toEqual([{ key: 'team', value: 'platform' }]);
    const definition = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:2';
    await ecs.send(new TagResourceCommand({ resourceArn: definition, tags: [{ key: 'v', value: '2' }] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: definition }))).tags).toEqual([{ key: 'v', value: '2' }]);
    await expect(ecs.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:ecs:us-east-1:123456789012:task/ops/0123' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(ecs.send(new TagResourceCommand({ resourceArn: 'arn:aws:ecs:us-east-1:123456789012:task/0123', tags: [{ key: 'a', value: 'b' }] }))).rejects.toThrow(/Long arn format/);
  });

  it('deletes an empty cluster', async () => {
    const deleted = await ecs.send(new DeleteClusterCommand({ cluster: 'bare' }));
    expect(deleted.cluster!.status).toBe('INACTIVE');
    await expect(ecs.send(new ListTasksCommand({ cluster: 'bare' }))).rejects.toBeInstanceOf(ClusterNotFoundException);
  });

  it('answers malformed requests with AWS error envelopes, never a bare 500 or HTML', async () => {
    const post = async (headers: Record<string, string>, body: string, method = 'POST') => {
      const res = await fetch(`${emu.endpoint}/`, { method, headers, ...(method === 'POST' ? { body } : {}) });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { __type: string; message: string } };
    };
    const json = { 'Content-Type': 'application/x-amz-json-1.1' };
    const target = (op: string) => ({ ...json, 'X-Amz-Target': `AmazonEC2ContainerServiceV20141113.${op}` });
    const cases = [
      await post(target('RunTask'), '{not json'),
      await post(target('RunTask'), '[1,2]'),
      await post(target('RunTask'), JSON.stringify({ taskDefinition: 5 })),
      await post(target('FlyToMoon'), '{}'),
      await post(json, '{}'),
      await post({}, '', 'GET'),
    ];
    expect(cases.map((c) => [c.status, c.body.__type])).toEqual([
      [400, 'SerializationException'],
      [400, 'SerializationException'],
      [400, 'SerializationException'],
      [400, 'UnknownOperationException'],
      [400, 'UnknownOperationException'],
      [400, 'UnknownOperationException'],
    ]);
    for (const c of cases) {
      expect(c.type).toBe('application/x-amz-json-1.1');
      expect(c.body.message.length).toBeGreaterThan(5);
    }
    // Through the SDK, an unmodeled code still arrives by name.
    const raw = await fetch(`${emu.endpoint}/`, { method: 'POST', headers: target('DescribeTasks'), body: '{"cluster":"ops"}' });
    expect(((await raw.json()) as { __type: string }).__type).toBe('InvalidParameterException');
    const err = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ECSServiceException);
  });
});
