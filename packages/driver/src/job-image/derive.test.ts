import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { SystemFailure } from '../errors.js';
import { credentialsFor, deriveTaskDefinition, registryOf, type DeriveInput } from './derive.js';
import type { JobService } from './payload.js';
import { TEMPLATE } from './test-template.js';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-AbCdEf';
const AGENT = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1';
const INPUT: DeriveInput = {
  template: TEMPLATE,
  helperContainerName: 'ci-coordinator',
  buildsDir: '/opt/gitlab-runner/builds',
  settings: { agentImage: AGENT, registryCredentials: [{ registry: 'registry.example.com', secretArn: SECRET }], familyPrefix: 'ci-coordinator-job' },
  image: { name: 'registry.example.com/team/app:1' },
  services: [{ name: 'postgres:16', alias: 'db', variables: [], ports: [] }, { name: 'redis:7', alias: '', command: ['redis-server', '--save', ''], variables: [], ports: [] }],
};

const container = (containers: readonly ContainerDefinition[], name: string): ContainerDefinition => {
  const found = containers.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
};

describe('deriveTaskDefinition', () => {
  const derived = deriveTaskDefinition(INPUT);
  const { input } = derived;

  it("keeps the template's roles, network mode, size and platform, without its read-only fields", () => {
    expect(input).toMatchObject({
      taskRoleArn: TEMPLATE.taskRoleArn,
      executionRoleArn: TEMPLATE.executionRoleArn,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      runtimePlatform: TEMPLATE.runtimePlatform,
    });
    for (const key of ['taskDefinitionArn', 'revision', 'status', 'compatibilities', 'requiresAttributes']) expect(input).not.toHaveProperty(key);
    expect(input.volumes).toEqual([{ name: 'builds' }, { name: 'gf-tools' }]);
  });

  it('lays out gf-init, the helper, build and one svc-N per service', () => {
    expect(input.containerDefinitions.map((c) => c.name)).toEqual(['gf-init', 'ci-coordinator', 'build', 'svc-0', 'svc-1']);
    expect(container(input.containerDefinitions, 'gf-init')).toEqual({
      name: 'gf-init',
      image: AGENT,
      essential: false,
      command: ['/opt/gf/busybox', 'true'],
      mountPoints: [{ sourceVolume: 'gf-tools', containerPath: '/opt/gf' }],
    });
    expect(container(input.containerDefinitions, 'ci-coordinator').mountPoints).toEqual([{ sourceVolume: 'builds', containerPath: '/opt/gitlab-runner/builds' }]);
    expect(container(input.containerDefinitions, 'build')).toEqual({
      name: 'build',
      image: 'registry.example.com/team/app:1',
      essential: true,
      user: '0',
      entryPoint: ['/opt/gf/busybox', 'sh', '/opt/gf/gf-entry'],
      environment: [{ name: 'GITLAB_FARGATE_SSH_PORT', value: '2222' }],
      portMappings: [{ containerPort: 2222, protocol: 'tcp' }],
      dependsOn: [{ containerName: 'gf-init', condition: 'SUCCESS' }],
      mountPoints: [
        { sourceVolume: 'gf-tools', containerPath: '/opt/gf', readOnly: true },
        { sourceVolume: 'builds', containerPath: '/opt/gitlab-runner/builds' },
      ],
      logConfiguration: TEMPLATE.containerDefinitions?.[0]?.logConfiguration,
      repositoryCredentials: { credentialsParameter: SECRET },
    });
    expect(container(input.containerDefinitions, 'svc-0')).toMatchObject({ image: 'postgres:16', essential: false });
    expect(container(input.containerDefinitions, 'svc-0')).not.toHaveProperty('repositoryCredentials');
    expect(container(input.containerDefinitions, 'svc-1')).toMatchObject({ command: ['redis-server', '--save', ''] });
    expect(derived).toMatchObject({ helperContainerName: 'ci-coordinator', buildContainerName: 'build', serviceContainerNames: ['svc-0', 'svc-1'] });
  });

  it('puts no per-job value into the definition: aliases, users and variables stay out', () => {
    const text = JSON.stringify(input);
    expect(text).not.toContain('SSH_PUBLIC_KEY');
    expect(text).not.toContain('GITLAB_FARGATE_HOSTS');
    expect(text).not.toContain('"db"');
    const withOtherAliases = deriveTaskDefinition({ ...INPUT, services: INPUT.services.map((s): JobService => ({ ...s, alias: 'other', variables: [{ key: 'A', value: '1', public: true, masked: false, file: false, raw: false }] })) });
    expect(withOtherAliases.family).toBe(derived.family);
  });

  it('names the family <prefix>-<16 hex digits> and tags it', () => {
    expect(derived.family).toMatch(/^ci-coordinator-job-[0-9a-f]{16}$/);
    expect(derived.family.endsWith(derived.hash.slice(0, 16))).toBe(true);
    expect(input.tags).toEqual([
      { key: 'gitlab-fargate:managed', value: 'true' },
      { key: 'gitlab-fargate:hash', value: derived.hash },
      { key: 'gitlab-fargate:image', value: 'registry.example.com/team/app:1' },
    ]);
  });

  it('gives another image, service or template another family', () => {
    const families = new Set([
      derived.family,
      deriveTaskDefinition({ ...INPUT, image: { name: 'registry.example.com/team/app:2' } }).family,
      deriveTaskDefinition({ ...INPUT, services: INPUT.services.slice(0, 1) }).family,
      deriveTaskDefinition({ ...INPUT, template: { ...TEMPLATE, cpu: '2048', memory: '4096' } }).family,
    ]);
    expect(families.size).toBe(4);
  });

  it("with image: entrypoint:, runs that entry point with the agent's start as its arguments; [\"\"] clears it", () => {
    const own = deriveTaskDefinition({ ...INPUT, image: { name: 'ruby:3', entrypoint: ['/docker-entrypoint.sh'] } });
    expect(container(own.input.containerDefinitions, 'build')).toMatchObject({ entryPoint: ['/docker-entrypoint.sh'], command: ['/opt/gf/busybox', 'sh', '/opt/gf/gf-entry'] });
    const cleared = deriveTaskDefinition({ ...INPUT, image: { name: 'ruby:3', entrypoint: [''] } });
    expect(container(cleared.input.containerDefinitions, 'build').entryPoint).toEqual(['/opt/gf/busybox', 'sh', '/opt/gf/gf-entry']);
    expect(container(cleared.input.containerDefinitions, 'build')).not.toHaveProperty('command');
  });

  it('without an image, adds the services beside the helper only (no agent, no build container)', () => {
    const { image: _none, ...rest } = INPUT;
    const servicesOnly = deriveTaskDefinition(rest);
    expect(servicesOnly.input.containerDefinitions.map((c) => c.name)).toEqual(['ci-coordinator', 'svc-0', 'svc-1']);
    expect(servicesOnly.buildContainerName).toBeUndefined();
    expect(servicesOnly.input.volumes).toEqual([{ name: 'builds' }]);
  });

  it("refuses services on the task's own ports or on one port, before anything is registered", () => {
    expect(() => deriveTaskDefinition({ ...INPUT, services: [{ name: 'sshd:1', alias: '', variables: [], ports: [{ number: 22 }] }] })).toThrow(
      'service "sshd:1" (services[0]) and the task definition\'s container "ci-coordinator" both listen on port 22',
    );
    expect(() => deriveTaskDefinition({ ...INPUT, services: [{ name: 'x:1', alias: '', variables: [], ports: [{ number: 2222 }] }] })).toThrow(
      "the job agent's SSH server in the build container both listen on port 2222",
    );
    expect(() => deriveTaskDefinition({ ...INPUT, services: [INPUT.services[0]!, INPUT.services[0]!] })).toThrow(/run the same image/);
  });

  it('refuses a template without the helper, or with a name the derivation needs', () => {
    expect(() => deriveTaskDefinition({ ...INPUT, helperContainerName: 'sshd' })).toThrow(
      'task definition ci-coordinator has no container named "sshd" ([Fargate] ContainerName): set ContainerName to its SSH container',
    );
    const clash = { ...TEMPLATE, containerDefinitions: [...(TEMPLATE.containerDefinitions ?? []), { name: 'build', image: 'x' }] };
    expect(() => deriveTaskDefinition({ ...INPUT, template: clash })).toThrow(SystemFailure);
    expect(() => deriveTaskDefinition({ ...INPUT, template: { ...TEMPLATE, volumes: [{ name: 'builds' }] } })).toThrow(/a volume named "builds"/);
  });
});

describe('registryOf and credentialsFor', () => {
  it.each([
    ['ruby:3', 'docker.io'],
    ['library/ruby:3', 'docker.io'],
    ['registry.example.com/team/app:1', 'registry.example.com'],
    ['localhost:5000/app', 'localhost:5000'],
    ['localhost/app', 'localhost'],
  ])('%s is pulled from %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });

  it('takes the first matching registry pattern', () => {
    const credentials = [
      { registry: '*.example.com', secretArn: 'first' },
      { registry: 'registry.example.com', secretArn: 'second' },
    ];
    expect(credentialsFor('registry.example.com/a', credentials)).toEqual({ repositoryCredentials: { credentialsParameter: 'first' } });
    expect(credentialsFor('example.com/a', credentials)).toEqual({});
    expect(credentialsFor('ruby:3', [{ registry: 'docker.io', secretArn: 'hub' }])).toEqual({ repositoryCredentials: { credentialsParameter: 'hub' } });
  });
});
