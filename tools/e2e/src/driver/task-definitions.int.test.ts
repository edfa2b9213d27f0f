import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { deriveTaskDefinition, ensureTaskDefinition, listUnusedFamilies, retireFamily, type DerivedTaskDefinition } from '@gitlab-fargate/driver';
import { startEmulator, type RunningEmulator } from '@gitlab-fargate/ecs-emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * The driver's task-definition registration (packages/driver/src/aws/task-definitions.ts) and its gc side against the
 * ECS emulator: describe before register, one registration for many callers, backoff on throttling and on ECS's
 * same-family concurrency error, and retiring unused families.
 */

const PREFIX = 'ci-job';
const DAY_S = 86_400;
let emu: RunningEmulator;
let ecs: ECSClient;
let template: TaskDefinition;
let dir: string;

const client = (maxAttempts?: number): ECSClient =>
  new ECSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, ...(maxAttempts === undefined ? {} : { maxAttempts }) });

const derive = (image: string, services: string[] = []): DerivedTaskDefinition =>
  deriveTaskDefinition({
    template,
    helperContainerName: 'ci-coordinator',
    buildsDir: '/opt/gitlab-runner/builds',
    settings: { agentImage: 'local/job-agent:test', registryCredentials: [], familyPrefix: PREFIX },
    image: { name: image },
    services: services.map((name) => ({ name, alias: '', variables: [], ports: [] })),
  });

async function revisionsOf(family: string, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): Promise<string[]> {
  const all = await ecs.send(new ListTaskDefinitionsCommand({ status, maxResults: 100 }));
  return (all.taskDefinitionArns ?? []).filter((arn) => arn.includes(`:task-definition/${family}:`));
}

beforeAll(async () => {
  emu = await startEmulator({ phases: { registrationMs: 300 } });
  ecs = client();
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'ci',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      containerDefinitions: [{ name: 'ci-coordinator', image: 'local/ci-coordinator:test', essential: true, portMappings: [{ containerPort: 22 }] }],
    }),
  );
  template = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'ci' }))).taskDefinition as TaskDefinition;
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'td-cache-'));
  emu.setThrottling({ enabled: false });
});

describe('ensureTaskDefinition against the emulator', () => {
  it('registers once with its tags, then answers from the cache, and another runner finds it by describing', async () => {
    const derived = derive('local/ruby:3', ['local/postgres:16']);
    const cacheFile = join(dir, 'task-definitions.json');
    const first = await ensureTaskDefinition(ecs, derived, { cacheFile });
    expect(first).toMatchObject({ family: derived.family, source: 'registered' });
    const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: first.arn, include: ['TAGS'] }));
    expect(described.taskDefinition?.containerDefinitions?.map((c) => c.name)).toEqual(['gf-init', 'ci-coordinator', 'build', 'svc-0']);
    expect(described.tags).toEqual(
      expect.arrayContaining([
        { key: 'gitlab-fargate:managed', value: 'true' },
        { key: 'gitlab-fargate:hash', value: derived.hash },
        { key: 'gitlab-fargate:image', value: 'local/ruby:3' },
      ]),
    );
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).entries[derived.hash].arn).toBe(first.arn);

    expect(await ensureTaskDefinition(ecs, derived, { cacheFile })).toEqual({ arn: first.arn, family: derived.family, source: 'cache' });
    const otherRunner = join(mkdtempSync(join(tmpdir(), 'td-cache-')), 'task-definitions.json');
    expect(await ensureTaskDefinition(ecs, derived, { cacheFile: otherRunner })).toEqual({ arn: first.arn, family: derived.family, source: 'described' });
    expect(await revisionsOf(derived.family)).toEqual([first.arn]);
  });

  it('registers again when gc elsewhere retired the cached revision (checked once a day per entry)', async () => {
    const derived = derive('local/retired:1');
    const cacheFile = join(dir, 'task-definitions.json');
    const first = await ensureTaskDefinition(ecs, derived, { cacheFile });
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: first.arn }));
    // Within the day the cache is trusted as it is (no API call) …
    expect(await ensureTaskDefinition(ecs, derived, { cacheFile })).toMatchObject({ arn: first.arn, source: 'cache' });
    // … a day later the entry is checked, found INACTIVE, dropped, and the definition registered as revision 2.
    const nextDay = Date.now() + 86_400_000 + 60_000;
    const again = await ensureTaskDefinition(ecs, derived, { cacheFile, now: () => nextDay });
    expect(again.source).toBe('registered');
    expect(again.arn).toBe(first.arn.replace(/:1$/, ':2'));
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).entries[derived.hash].arn).toBe(again.arn);
  });

  it('20 parallel prepares of one runner on one new image make exactly one RegisterTaskDefinition', async () => {
    const derived = derive('local/node:20-parallel');
    const cacheFile = join(dir, 'task-definitions.json');
    const results = await Promise.all(Array.from({ length: 20 }, () => ensureTaskDefinition(client(), derived, { cacheFile })));
    expect(new Set(results.map((result) => result.arn)).size).toBe(1);
    expect(results.filter((result) => result.source === 'registered')).toHaveLength(1);
    expect(await revisionsOf(derived.family)).toEqual([results[0]?.arn]);
  });

  it("retries ECS's same-family concurrency error (runners on other hosts) by describing again", async () => {
    const derived = derive('local/go:1.23-race');
    const progress: string[] = [];
    // No cache: nothing serialises these callers, as for runners on different hosts.
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        ensureTaskDefinition(client(), derived, { baseDelayMs: 400, progress: (line) => progress.push(line) }),
      ),
    );
    expect(progress.some((line) => line.includes('Too many concurrent attempts to create a new revision of the specified family'))).toBe(true);
    const revisions = await revisionsOf(derived.family);
    expect(revisions.length).toBeGreaterThanOrEqual(1);
    for (const result of results) expect(revisions).toContain(result.arn);
    expect(results.filter((result) => result.source === 'described').length).toBeGreaterThan(0);
  });

  it('backs off on throttling and then registers', async () => {
    emu.setThrottling({ enabled: true, buckets: { taskDefinitionModify: { burst: 1, refillPerSecond: 1 } } });
    const ecsOnce = client(1); // no SDK retries: the driver's own backoff must do it
    const progress: string[] = [];
    const a = await ensureTaskDefinition(ecsOnce, derive('local/throttled:a'), { baseDelayMs: 300 });
    const b = await ensureTaskDefinition(ecsOnce, derive('local/throttled:b'), { baseDelayMs: 300, progress: (line) => progress.push(line) });
    expect([a.source, b.source]).toEqual(['registered', 'registered']);
    expect(progress.some((line) => line.startsWith('ThrottlingException: Rate exceeded; describing'))).toBe(true);
  });
});

describe('gc of derived task definitions against the emulator', () => {
  it('deregisters families unused past the TTL, deletes them a TTL later, and never touches the template or unmanaged families', async () => {
    const cacheFile = join(dir, 'task-definitions.json');
    const stale = await ensureTaskDefinition(ecs, derive('local/stale:1'), { cacheFile });
    const used = await ensureTaskDefinition(ecs, derive('local/used:1'), { cacheFile });
    // A family with our name shape but without the managed tag: someone else's.
    await ecs.send(new RegisterTaskDefinitionCommand({ family: `${PREFIX}-0123456789abcdef`, containerDefinitions: [{ name: 'x', image: 'x', essential: true }] }));
    const ttl = 7 * DAY_S;
    const later = Date.now() + (ttl + 60) * 1000;
    // Another runner used `used` just before "later".
    await ecs.send(new TagResourceCommand({ resourceArn: used.arn, tags: [{ key: 'gitlab-fargate:last-used', value: new Date(later - 60_000).toISOString() }] }));

    const unused = await listUnusedFamilies(ecs, { familyPrefix: PREFIX, ttlSeconds: ttl, cacheFile, now: () => later });
    const mine = unused.filter((family) => [stale.family, used.family, `${PREFIX}-0123456789abcdef`, 'ci'].includes(family.family));
    expect(mine).toEqual([{ family: stale.family, activeArns: [stale.arn], inactiveArns: [], lastUsedAt: expect.any(String) }]);

    expect(await retireFamily(ecs, mine[0]!, { cacheFile })).toEqual({ deregistered: [stale.arn], deleted: [] });
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: stale.arn }))).taskDefinition?.status).toBe('INACTIVE');
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).entries[stale.arn]).toBeUndefined();
    expect(Object.values(JSON.parse(readFileSync(cacheFile, 'utf8')).entries).map((entry) => (entry as { arn: string }).arn)).toEqual([used.arn]);

    const muchLater = later + (ttl + 60) * 1000;
    const unusedLater = await listUnusedFamilies(ecs, { familyPrefix: PREFIX, ttlSeconds: ttl, now: () => muchLater });
    const toDelete = unusedLater.find((family) => family.family === stale.family);
    expect(toDelete).toMatchObject({ activeArns: [], inactiveArns: [stale.arn] });
    expect(await retireFamily(ecs, toDelete!)).toEqual({ deregistered: [], deleted: [stale.arn] });
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: stale.arn }))).taskDefinition?.status).toBe('DELETE_IN_PROGRESS');
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'ci' }))).taskDefinition?.status).toBe('ACTIVE');
  });
});
