import type { JobImageSettings } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import type { JobImageRequest, JobVariable } from './payload.js';
import { planJobImage } from './plan.js';
import { ImageRefused } from './policy.js';
import { TEMPLATE } from './test-template.js';

const SETTINGS: JobImageSettings = {
  enabled: true,
  allowedImages: ['ruby:*'],
  allowedServices: ['postgres:*'],
  agentImage: 'agent:1',
  registryCredentials: [],
  familyPrefix: 'ci-job',
  unusedFamilyTtl: 604_800,
  serviceWaitTimeout: 30,
};
const secret: JobVariable = { key: 'DB_PASSWORD', value: 'hunter2', public: false, masked: true, file: false, raw: false };
const REQUEST: JobImageRequest = {
  image: { name: 'ruby:3.3', user: '1000' },
  services: [{ name: 'postgres:16', alias: 'db', variables: [{ key: 'POSTGRES_PASSWORD', value: '$DB_PASSWORD', public: true, masked: false, file: false, raw: false }], ports: [] }],
  variables: [{ key: 'CI_JOB_NAME', value: 'test', public: true, masked: false, file: false, raw: false }, secret],
  source: 'payload',
};
const plan = (request: JobImageRequest) => planJobImage({ request, settings: SETTINGS, template: TEMPLATE, helperContainerName: 'ci-coordinator', buildsDir: '/builds' });

describe('planJobImage', () => {
  it('plans the derived definition, host names, user and service environments, and warns about withheld variables', () => {
    const planned = plan(REQUEST);
    expect(planned?.derived.input.containerDefinitions.map((c) => c.name)).toEqual(['gf-init', 'ci-coordinator', 'build', 'svc-0']);
    expect(planned?.hostnames).toEqual(['postgres', 'db']);
    expect(planned?.user).toBe('1000');
    expect(planned?.services[0]?.containerName).toBe('svc-0');
    expect(planned?.services[0]?.environment.environment).toEqual([
      { name: 'CI_JOB_NAME', value: 'test' },
      { name: 'POSTGRES_PASSWORD', value: '' },
    ]);
    expect(JSON.stringify(planned)).not.toContain('hunter2');
    expect(planned?.warnings).toEqual([
      'svc-0 (postgres:16): its variables refer to DB_PASSWORD, which are masked, protected, file or unknown variables and are never sent to services: they expand to ""',
    ]);
  });

  it('has nothing to do for a job with neither image nor services', () => {
    expect(plan({ services: [], variables: [], source: 'payload' })).toBeUndefined();
  });

  it('refuses before deriving anything', () => {
    expect(() => plan({ ...REQUEST, image: { name: 'node:20' } })).toThrow(ImageRefused);
  });
});
