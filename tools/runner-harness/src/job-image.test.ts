import { describe, expect, it } from 'vitest';
import { JobSpecError, parseJobSpec } from './job.js';
import { gitlabJobVariables, jobResponse } from './job-environment.js';
import type { RunnerSettings } from './runner-settings.js';

const runner = { name: 'r', url: 'https://gitlab.example.com/' } as RunnerSettings;

const identity = { jobId: 7, pipelineId: 1, projectId: 2, projectPath: 'group/app', concurrentProjectId: 0, jobToken: 'tok' };

describe('image: and services: in a job file', () => {
  const job = parseJobSpec(
    [
      'script: [psql -h db -c "select 1"]',
      'image:',
      '  name: registry.example.com/team/ruby:3.3',
      '  entrypoint: [""]',
      '  docker: {user: "1000", platform: linux/amd64}',
      'services:',
      '  - redis:7',
      '  - name: postgres:16',
      '    alias: db,pg',
      '    entrypoint: [docker-entrypoint.sh]',
      '    command: [postgres, -c, fsync=off]',
      '    variables: {POSTGRES_PASSWORD: secret}',
    ].join('\n'),
    'j.yml',
  );

  it('goes into the payload with gitlab-runner\'s field names, and CI_JOB_IMAGE into the variables', () => {
    const payload = jobResponse(job, identity as never, gitlabJobVariables(job, runner, identity as never)) as Record<string, unknown>;
    expect(payload['image']).toEqual({ name: 'registry.example.com/team/ruby:3.3', entrypoint: [''], executor_opts: { docker: { user: '1000', platform: 'linux/amd64' } } });
    expect(payload['services']).toEqual([
      { name: 'redis:7' },
      { name: 'postgres:16', alias: 'db,pg', entrypoint: ['docker-entrypoint.sh'], command: ['postgres', '-c', 'fsync=off'], variables: [{ key: 'POSTGRES_PASSWORD', value: 'secret' }] },
    ]);
    const variables = payload['variables'] as { key: string; value: string }[];
    expect(variables.find((variable) => variable.key === 'CI_JOB_IMAGE')?.value).toBe('registry.example.com/team/ruby:3.3');
  });

  it('a job without them writes what gitlab-runner writes for none', () => {
    const plain = parseJobSpec('script: [echo]', 'j.yml');
    const payload = jobResponse(plain, identity as never, gitlabJobVariables(plain, runner, identity as never)) as Record<string, unknown>;
    expect(payload['image']).toEqual({ name: '' });
    expect(payload['services']).toEqual([]);
    expect((payload['variables'] as { key: string }[]).some((variable) => variable.key === 'CI_JOB_IMAGE')).toBe(false);
  });

  it('takes a bare image name', () => {
    expect(parseJobSpec('script: [echo]\nimage: alpine:3', 'j.yml').image).toEqual({ name: 'alpine:3' });
  });

  it('names each mistake with its place', () => {
    expect(() => parseJobSpec('script: [echo]\nimage: {nme: x}\nservices: [{name: a, port: 1}]', 'j.yml')).toThrow(JobSpecError);
    try {
      parseJobSpec('script: [echo]\nimage: {nme: x}\nservices: [{name: a, port: 1}]', 'j.yml');
    } catch (error) {
      expect((error as JobSpecError).problems).toEqual([
        'j.yml:2:9: image: unknown key "nme" (the harness reads name, entrypoint, docker)',
        'j.yml:2:8: image.name must be an image name',
        'j.yml:3:22: services[0]: unknown key "port" (the harness reads name, alias, entrypoint, command, variables)',
      ]);
    }
  });
});
