import { describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { SystemFailure } from '../errors.js';
import { MANAGER_ID_VARIABLE, readJobEnvironment } from './environment.js';
import { readOverrides } from './overrides.js';
import { TAG_KEYS, planLaunch } from './plan.js';

const MANAGER_TAG_KEY = TAG_KEYS.manager;

/** The tags prepare would send for a driver TOML (`[Fargate]` lines) and the runner's environment. */
function tagsFor(options: { fargate?: string; env?: Record<string, string> }): Record<string, string> {
  const { ctx } = testContext(options);
  const overrides = readOverrides(ctx.env.variables, ctx.config.overrides);
  return planLaunch(ctx.config, ctx.env, ctx.cli, overrides, 'ssh-ed25519 AAAA test', 'seed').tags;
}

const TASK_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

describe('the manager tag (gitlab-fargate:manager)', () => {
  it("tags each job task with the manager's own task ID from gitlab-runner's environment", () => {
    expect(tagsFor({ env: { [MANAGER_ID_VARIABLE]: TASK_ID } })[MANAGER_TAG_KEY]).toBe(TASK_ID);
  });

  it('sets no manager tag when the manager does not know its task ID, and the config refuses a configured one', () => {
    expect(tagsFor({})).not.toHaveProperty(MANAGER_TAG_KEY);
    expect(() => tagsFor({ fargate: `Tags = { "${MANAGER_TAG_KEY}" = "forged", team = "ci" }` })).toThrow(
      /Fargate\.Tags\.gitlab-fargate:manager: expected a tag key other than the driver's own/,
    );
  });

  it("cannot be set by a job: a CUSTOM_ENV_ variable of the same name is the job's, not the runner's", () => {
    expect(readJobEnvironment({ [`CUSTOM_ENV_${MANAGER_ID_VARIABLE}`]: TASK_ID }).managerId).toBeUndefined();
  });

  it('refuses a value that is not a task ID, before anything starts, naming the variable', () => {
    expect(() => readJobEnvironment({ [MANAGER_ID_VARIABLE]: 'arn:aws:ecs:us-east-1:1:task/c/abc' })).toThrow(SystemFailure);
    expect(() => readJobEnvironment({ [MANAGER_ID_VARIABLE]: 'a b' })).toThrow(/GITLAB_FARGATE_MANAGER_ID must be the runner manager's ECS task ID/);
    expect(readJobEnvironment({ [MANAGER_ID_VARIABLE]: ` ${TASK_ID} ` }).managerId).toBe(TASK_ID);
    expect(readJobEnvironment({ [MANAGER_ID_VARIABLE]: '' }).managerId).toBeUndefined();
  });
});
