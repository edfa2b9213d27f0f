import { ECSClient, RunTaskCommand, type TaskOverride } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { deriveTaskDefinition, type DeriveInput } from './derive.js';
import { ECS_TASK_LIMITS, LimitExceeded, checkDefinitionLimits, checkServicePorts, jsonBytes, overridesCharacters } from './limits.js';
import type { JobService } from './payload.js';
import { TEMPLATE } from './test-template.js';

const service = (name: string, ports: number[] = []): JobService => ({ name, alias: '', variables: [], ports: ports.map((number) => ({ number })) });

const INPUT: DeriveInput = {
  template: TEMPLATE,
  helperContainerName: 'ci-coordinator',
  buildsDir: '/builds',
  settings: { agentImage: 'agent:1', registryCredentials: [], familyPrefix: 'ci-job' },
  image: { name: 'ruby:3' },
  services: [],
};

const services = (count: number): JobService[] => Array.from({ length: count }, (_, index) => service(`image-${index}:1`));

describe('the 10-container limit', () => {
  it('takes gf-init, the helper, build and 7 services, and refuses an 8th, naming the limit and the numbers', () => {
    expect(deriveTaskDefinition({ ...INPUT, services: services(7) }).input.containerDefinitions).toHaveLength(10);
    expect(() => deriveTaskDefinition({ ...INPUT, services: services(8) })).toThrow(LimitExceeded);
    expect(() => deriveTaskDefinition({ ...INPUT, services: services(8) })).toThrow(
      /^the job needs 11 containers \(gf-init, ci-coordinator, build, svc-0, .*svc-7\), and a Fargate task definition holds at most 10: this job may have at most 7 services, it has 8$/,
    );
  });
});

describe('the 64 KiB definition limit', () => {
  /** A definition whose JSON is exactly `bytes` long. */
  const ofSize = (bytes: number) => {
    const input = { containerDefinitions: [{ name: 'x', image: '' }] };
    input.containerDefinitions[0]!.image = 'a'.repeat(bytes - jsonBytes(input));
    return { family: 'ci-job-0123456789abcdef', input, serviceContainerNames: [] };
  };

  it('accepts 65536 bytes and refuses 65537, naming the limit and the size', () => {
    expect(jsonBytes(ofSize(65_536).input)).toBe(ECS_TASK_LIMITS.definitionBytes);
    expect(() => checkDefinitionLimits(ofSize(65_536))).not.toThrow();
    expect(() => checkDefinitionLimits(ofSize(65_537))).toThrow(
      "the job's task definition ci-job-0123456789abcdef is 65537 bytes, over ECS's limit of 65536 bytes (64 KiB)",
    );
  });

  it('counts bytes, not characters', () => {
    expect(jsonBytes({ a: 'é' })).toBe(JSON.stringify({ a: 'é' }).length + 1);
  });
});

describe('overridesCharacters', () => {
  it('measures the overrides exactly as the SDK puts them into the RunTask request', async () => {
    const overrides: TaskOverride = {
      cpu: '1024',
      containerOverrides: [{ name: 'svc-0', environment: [{ name: 'QUOTE', value: 'a "quoted" \\ value, ünïcode' }, { name: 'EMPTY', value: '' }] }],
    };
    let body = '';
    const ecs = new ECSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      requestHandler: {
        handle: async (request: { body?: unknown }) => {
          body = String(request.body);
          throw new Error('captured');
        },
      },
    });
    await expect(ecs.send(new RunTaskCommand({ taskDefinition: 'td', overrides }))).rejects.toThrow('captured');
    const sent = JSON.stringify((JSON.parse(body) as { overrides: unknown }).overrides);
    expect(body).toContain(`"overrides":${sent}`);
    expect(overridesCharacters(overrides)).toBe(sent.length);
  });
});

describe('checkServicePorts', () => {
  const reserved = [
    { port: 22, owner: 'the helper container "ci-coordinator"' },
    { port: 2222, owner: 'the build container\'s SSH server' },
  ];

  it('refuses two services on one declared port, naming both', () => {
    expect(() => checkServicePorts([service('postgres:16', [5432]), service('pgbouncer:1', [5432])], reserved)).toThrow(
      'service "pgbouncer:1" (services[1]) and service "postgres:16" (services[0]) both listen on port 5432',
    );
  });

  it("refuses a service on the task's own ports", () => {
    expect(() => checkServicePorts([service('sshd:1', [22])], reserved)).toThrow('service "sshd:1" (services[0]) and the helper container "ci-coordinator" both listen on port 22');
  });

  it('refuses two services of the same image without ports, whatever their tags', () => {
    expect(() => checkServicePorts([service('postgres:15'), service('postgres:16')], reserved)).toThrow(
      'service "postgres:16" (services[1]) and service "postgres:15" (services[0]) run the same image, so both would listen on its port',
    );
  });

  it('allows different images, and one image twice on declared different ports', () => {
    expect(() => checkServicePorts([service('postgres:16'), service('redis:7')], reserved)).not.toThrow();
    expect(() => checkServicePorts([service('redis:7', [6379]), service('redis:7', [6380])], reserved)).not.toThrow();
  });
});
