import {
  ClientException,
  CreateClusterCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  InvalidParameterException,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ContainerDefinition,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient } from '../../test/support/clients.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';

const container = (name: string, extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({ name, image: 'local/debian:bookworm', essential: true, ...extra });

function definition(family: string, containerDefinitions: ContainerDefinition[] = [container('main')]): RegisterTaskDefinitionCommandInput {
  return { family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions };
}

/** The call fails with exactly this SDK exception class and message. */
async function expectAwsError(call: Promise<unknown>, type: abstract new (...args: never[]) => Error, message: string): Promise<void> {
  const error = await call.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

describe('task definition API: limits, bucket, concurrency, INACTIVE and DELETE_IN_PROGRESS', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;

  beforeAll(async () => {
    emu = await startEmulator({ phases: { registrationMs: 0 } });
    ecs = ecsClient(emu.endpoint);
  });

  afterEach(async () => {
    await emu.reset();
    emu.setPhases({ registrationMs: 0 });
  });

  afterAll(async () => {
    await emu?.stop();
  });

  it('refuses more than 10 containers, more than 64 KiB and COMPLETE/SUCCESS on an essential container, in AWS words', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => container(`c${i}`));
    await expectAwsError(ecs.send(new RegisterTaskDefinitionCommand(definition('too-many', eleven))), ClientException, 'Too many containers.');
    const ten = Array.from({ length: 10 }, (_, i) => container(`c${i}`, { essential: i === 0 }));
    await expect(ecs.send(new RegisterTaskDefinitionCommand(definition('ten', ten)))).resolves.toBeDefined();

    const big = container('main', { environment: [{ name: 'BIG', value: 'x'.repeat(66_000) }] });
    const error = await ecs.send(new RegisterTaskDefinitionCommand(definition('too-big', [big]))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientException);
    expect((error as Error).message).toMatch(/^Actual length: '\d+'\. Max allowed length is '65536' bytes\.$/);

    const onEssential = [container('init'), container('build', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] })];
    await expect(ecs.send(new RegisterTaskDefinitionCommand(definition('essential-dep', onEssential)))).rejects.toThrow(
      'A dependency container with SUCCESS or COMPLETE condition cannot be an essential container',
    );
    const unknownVolume = [container('main', { mountPoints: [{ sourceVolume: 'nope', containerPath: '/x' }] })];
    await expect(ecs.send(new RegisterTaskDefinitionCommand(definition('no-volume', unknownVolume)))).rejects.toThrow(/sourceVolume 'nope'/);
  });

  it('shares one bucket of 20, refilled at 1/s, between RegisterTaskDefinition and DeregisterTaskDefinition', async () => {
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => ecs.send(new RegisterTaskDefinitionCommand(definition(`bucket-${i}`)))));
    const throttled = results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ThrottlingException');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    expect(throttled).toHaveLength(5);
    // The same bucket: a deregistration is throttled too, while describing (another bucket) is not.
    await expect(ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'bucket-0:1' }))).rejects.toThrow('Rate exceeded');
    await expect(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'bucket-0' }))).resolves.toBeDefined();
    // One token comes back per second: once a call gets through, the next one at once does not.
    let refilled = false;
    while (!refilled) {
      refilled = await ecs.send(new RegisterTaskDefinitionCommand(definition('refill'))).then(() => true, () => false);
      if (!refilled) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect(ecs.send(new RegisterTaskDefinitionCommand(definition('refill')))).rejects.toThrow('Rate exceeded');
  });

  it('refuses a second registration into a family while one is in progress, not into another family', async () => {
    emu.setPhases({ registrationMs: 1500 });
    const [first, second, other] = await Promise.allSettled([
      ecs.send(new RegisterTaskDefinitionCommand(definition('busy'))),
      ecs.send(new RegisterTaskDefinitionCommand(definition('busy'))),
      ecs.send(new RegisterTaskDefinitionCommand(definition('quiet'))),
    ]);
    const outcomes = [first, second].map((r) => (r.status === 'fulfilled' ? 'registered' : `${(r.reason as Error).name}: ${(r.reason as Error).message}`));
    expect(outcomes.sort()).toEqual(['ClientException: Too many concurrent attempts to create a new revision of the specified family.', 'registered']);
    expect(other.status).toBe('fulfilled');
    const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'busy' }));
    expect(described.taskDefinition!.revision).toBe(1);
  });

  it('deregisters to INACTIVE, deletes to DELETE_IN_PROGRESS, runs neither, and lists families and revisions by status', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'td', capacityProviders: ['FARGATE'] }));
    await ecs.send(new RegisterTaskDefinitionCommand({ ...definition('gf-dev-aaaa'), tags: [{ key: 'gf:hash', value: 'aaaa' }] }));
    await ecs.send(new RegisterTaskDefinitionCommand(definition('gf-dev-aaaa')));
    await ecs.send(new RegisterTaskDefinitionCommand(definition('gf-dev-bbbb')));
    await ecs.send(new RegisterTaskDefinitionCommand(definition('other')));

    const tagged = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'gf-dev-aaaa:1', include: ['TAGS'] }));
    expect(tagged.tags).toEqual([{ key: 'gf:hash', value: 'aaaa' }]);
    const deleteActive = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['gf-dev-bbbb:1'] }));
    expect(deleteActive.failures![0]!.reason).toBe('The specified task definition is still in ACTIVE status. Please deregister the target and try again.');

    for (const revision of ['gf-dev-aaaa:1', 'gf-dev-aaaa:2', 'gf-dev-bbbb:1']) {
      const out = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: revision }));
      expect(out.taskDefinition!.status).toBe('INACTIVE');
    }
    const runInactive = ecs.send(new RunTaskCommand({ cluster: 'td', taskDefinition: 'gf-dev-aaaa:2', launchType: 'FARGATE', networkConfiguration: awsvpc() }));
    await expectAwsError(runInactive, InvalidParameterException, 'TaskDefinition is inactive');

    const deleted = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['gf-dev-aaaa:1'] }));
    expect(deleted.taskDefinitions!.map((d) => [d.family, d.revision, d.status])).toEqual([['gf-dev-aaaa', 1, 'DELETE_IN_PROGRESS']]);
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'gf-dev-aaaa:1' }))).taskDefinition!.status).toBe('DELETE_IN_PROGRESS');
    const runDeleted = ecs.send(new RunTaskCommand({ cluster: 'td', taskDefinition: 'gf-dev-aaaa:1', launchType: 'FARGATE', networkConfiguration: awsvpc() }));
    await expect(runDeleted).rejects.toThrow('TaskDefinition is inactive');

    const families = async (status?: 'ACTIVE' | 'INACTIVE' | 'ALL') =>
      (await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'gf-dev-', ...(status ? { status } : {}) }))).families;
    expect(await families()).toEqual(['gf-dev-aaaa', 'gf-dev-bbbb']);
    expect(await families('ACTIVE')).toEqual([]);
    expect(await families('INACTIVE')).toEqual(['gf-dev-aaaa', 'gf-dev-bbbb']);
    const revisions = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'gf-dev-aaaa', status: 'DELETE_IN_PROGRESS' }));
    expect(revisions.taskDefinitionArns).toEqual([expect.stringMatching(/:task-definition\/gf-dev-aaaa:1$/)]);
    // A new registration into the family continues the revision count.
    const next = await ecs.send(new RegisterTaskDefinitionCommand(definition('gf-dev-aaaa')));
    expect(next.taskDefinition!.revision).toBe(3);
  });

  it('accepts RunTask overrides of 8 192 characters of JSON and refuses one more, in AWS words', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'sizes', capacityProviders: ['FARGATE'] }));
    await ecs.send(new RegisterTaskDefinitionCommand(definition('sizes', [container('main', { image: 'local/absent-image:never' })])));
    const overrides = (length: number) => {
      const shell = { containerOverrides: [{ name: 'main', environment: [{ name: 'PAD', value: '' }] }] };
      shell.containerOverrides[0]!.environment[0]!.value = 'x'.repeat(length - JSON.stringify(shell).length);
      return shell;
    };
    const runWith = (length: number) =>
      ecs.send(new RunTaskCommand({ cluster: 'sizes', taskDefinition: 'sizes', launchType: 'FARGATE', networkConfiguration: awsvpc(), overrides: overrides(length) }));
    expect((await runWith(8192)).tasks).toHaveLength(1);
    await expectAwsError(runWith(8193), InvalidParameterException, 'Container Overrides length must be at most 8192');
  });
});
