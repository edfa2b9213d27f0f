import { describe, expect, it } from 'vitest';
import type { JobService, JobVariable } from './payload.js';
import { serviceEnvironment } from './service-env.js';

const variable = (key: string, value: string, flags: Partial<JobVariable> = {}): JobVariable => ({
  ...{ key, value, public: true, masked: false, file: false, raw: false },
  ...flags,
});

const JOB: JobVariable[] = [
  variable('CI_PROJECT_NAME', 'shop'),
  variable('DB_NAME', 'shop_test'),
  variable('CI_JOB_TOKEN', 'glcbt-TOKEN', { public: false, masked: true }),
  variable('DEPLOY_KEY', 'protected-value', { public: false }),
  variable('MASKED_PUBLIC', 'masked-value', { masked: true }),
  variable('KUBECONFIG', 'file-content', { file: true }),
];

const service = (variables: JobVariable[]): JobService => ({ name: 'postgres:16', alias: '', variables, ports: [] });

describe('serviceEnvironment', () => {
  it("passes the job's public variables, then the service's own, expanded", () => {
    const env = serviceEnvironment(service([variable('POSTGRES_DB', '${DB_NAME}'), variable('LITERAL', '$DB_NAME', { raw: true })]), JOB);
    expect(env.environment).toEqual([
      { name: 'CI_PROJECT_NAME', value: 'shop' },
      { name: 'DB_NAME', value: 'shop_test' },
      { name: 'POSTGRES_DB', value: 'shop_test' },
      { name: 'LITERAL', value: '$DB_NAME' },
    ]);
    expect(env.ownCount).toBe(2);
  });

  it('never sends masked, protected or file variables, not even through a reference in the service\'s variables', () => {
    const env = serviceEnvironment(service([variable('TOKEN', '$CI_JOB_TOKEN'), variable('KEY', 'x${DEPLOY_KEY}y'), variable('M', '$MASKED_PUBLIC$KUBECONFIG')]), JOB);
    const text = JSON.stringify(env.environment);
    for (const secret of ['glcbt-TOKEN', 'protected-value', 'masked-value', 'file-content']) expect(text).not.toContain(secret);
    expect(env.environment.map((entry) => entry.name)).toEqual(['CI_PROJECT_NAME', 'DB_NAME', 'TOKEN', 'KEY', 'M']);
    expect(env.withheld).toEqual(['CI_JOB_TOKEN', 'DEPLOY_KEY', 'MASKED_PUBLIC', 'KUBECONFIG']);
  });

  it("lets the service's own variable replace a job variable of the same name", () => {
    const env = serviceEnvironment(service([variable('DB_NAME', 'other')]), JOB);
    expect(env.environment).toEqual([
      { name: 'CI_PROJECT_NAME', value: 'shop' },
      { name: 'DB_NAME', value: 'other' },
    ]);
  });
});
