import { parseDriverConfig } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { readJobEnvironment } from '../job/environment.js';
import { planLaunch } from '../job/plan.js';
import { planDifference } from './plan-difference.js';
import { poolTaskPlan } from './task-keys.js';

const TOML = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\nPlatformVersion = "1.4.0"\n';
const config = parseDriverConfig(TOML, { file: 'f.toml' }).config;
const env = readJobEnvironment({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'abc123xyz', CUSTOM_ENV_CI_JOB_ID: '42' });
const pool = poolTaskPlan({ config, env });

describe('planDifference: why a job cannot use the pool tasks, in the job log', () => {
  it("is empty for the job's default plan (its tags, key and seed differ, but they make no pool key)", () => {
    expect(planDifference(planLaunch(config, env, {}, {}, 'ssh-ed25519 AAAA job', 'seed'), pool, {})).toBe('');
  });

  it('names both sides of each differing part: the Spot choice and the size', () => {
    const job = planLaunch(config, env, {}, { spot: true, cpu: 2048, memory: 4096 }, 'k', 'seed');
    expect(planDifference(job, pool, {})).toBe(
      "CPU 2048 units here, the task definition's in the pool; memory 4096 MiB here, the task definition's in the pool; " +
        'capacity FARGATE_SPOT:1 here, launch type FARGATE in the pool',
    );
  });

  it("blames prepare_args only for a part the flag decided: a job's own task definition override is not the runner's", () => {
    const flagged = planLaunch(config, env, { taskDefinition: 'big:2' }, {}, 'k', 'seed');
    expect(planDifference(flagged, pool, { taskDefinition: 'big:2' })).toContain("the runner's prepare_args pass --task-def");
    const overridden = planLaunch(config, env, { taskDefinition: 'big:2' }, { taskDefinition: 'own:1' }, 'k', 'seed');
    expect(planDifference(overridden, pool, { taskDefinition: 'big:2' })).toBe('task definition own:1 here, ci:1 in the pool');
  });
});
