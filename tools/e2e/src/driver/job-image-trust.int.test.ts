import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand, type TaskDefinition } from '@aws-sdk/client-ecs';
import { deriveTaskDefinition, ensureTaskDefinition, type DerivedTaskDefinition } from '@gitlab-fargate/driver';
import { startEmulator, type RunningEmulator } from '@gitlab-fargate/ecs-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A derived task definition is trusted by its content, not by its family name and tags: anyone allowed to register
 * task definitions can put another image behind `<prefix>-<hash>` with the right `gitlab-fargate:hash` tag. The
 * driver hashes what ECS describes again and registers its own revision when the content differs, and drops a cache
 * entry whose revision does not hold the job's content (packages/driver/src/aws/task-definitions.ts).
 */

let emu: RunningEmulator;
let ecs: ECSClient;
let template: TaskDefinition;

const derive = (image: string): DerivedTaskDefinition =>
  deriveTaskDefinition({
    template,
    helperContainerName: 'ci-coordinator',
    buildsDir: '/opt/gitlab-runner/builds',
    settings: { agentImage: 'local/job-agent:test', registryCredentials: [], familyPrefix: 'ci-trust' },
    image: { name: image },
    services: [{ name: 'local/redis:7', alias: 'cache', variables: [], ports: [] }],
  });

/** What an attacker registers: the job's family and tags, with another image in the build container. */
async function registerImpostor(derived: DerivedTaskDefinition): Promise<string> {
  const containerDefinitions = derived.input.containerDefinitions.map((container) => (container.name === 'build' ? { ...container, image: 'evil/backdoor:1' } : container));
  const { taskDefinition } = await ecs.send(new RegisterTaskDefinitionCommand({ ...derived.input, containerDefinitions }));
  return taskDefinition?.taskDefinitionArn as string;
}

async function buildImageOf(arn: string): Promise<string | undefined> {
  const { taskDefinition } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
  return taskDefinition?.containerDefinitions?.find((container) => container.name === 'build')?.image;
}

beforeAll(async () => {
  emu = await startEmulator({ phases: { registrationMs: 0 } });
  ecs = new ECSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
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

describe('a derived task definition found in ECS', () => {
  it('is used when ECS describes back the content it was registered with', async () => {
    const derived = derive('local/app:trusted');
    const registered = await ensureTaskDefinition(ecs, derived);
    expect(registered.source).toBe('registered');
    expect(await ensureTaskDefinition(ecs, derived)).toEqual({ ...registered, source: 'described' });
  });

  it('is not used when another image hides behind its family and tags: the driver registers its own revision', async () => {
    const derived = derive('local/app:1');
    const impostor = await registerImpostor(derived);
    const progress: string[] = [];
    const ensured = await ensureTaskDefinition(ecs, derived, { progress: (line) => progress.push(line) });
    expect(ensured.source).toBe('registered');
    expect(ensured.arn).not.toBe(impostor);
    expect(await buildImageOf(ensured.arn)).toBe('local/app:1');
    expect(progress.join('\n')).toContain(`${impostor} carries this job's tags but not its content`);
  });

  it('drops a cache entry whose revision holds other content, and uses a revision with the right content', async () => {
    const derived = derive('local/app:2');
    const cacheFile = join(mkdtempSync(join(tmpdir(), 'td-trust-')), 'task-definitions.json');
    const good = await ensureTaskDefinition(ecs, derived, { cacheFile });
    // The cache points at another revision of the family (as a cache written without checking content could).
    const impostor = await registerImpostor(derived);
    const entry = { family: derived.family, arn: impostor, lastUsedAt: new Date().toISOString() };
    writeFileSync(cacheFile, JSON.stringify({ version: 1, entries: { [derived.hash]: entry } }), { mode: 0o600 });
    const ensured = await ensureTaskDefinition(ecs, derived, { cacheFile });
    expect(ensured.arn).not.toBe(impostor);
    expect(ensured.source).not.toBe('cache');
    expect(await buildImageOf(ensured.arn)).toBe('local/app:2');
    expect(good.arn).not.toBe(impostor);
  });
});
