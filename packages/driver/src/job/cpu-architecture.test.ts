import { describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { OverrideRefused } from '../errors.js';
import { taskDefinitionForArchitecture } from './cpu-architecture.js';
import { readOverrides } from './overrides.js';
import { planLaunch } from './plan.js';

const ARM64_OFFERED = 'Arm64TaskDefinition = "ci-job-arm64:5"';
const BOTH_ALLOWED = '[Overrides]\nCpuArchitectures = ["X86_64", "ARM64"]\nTaskDefinitions = ["ci-*"]';

/** The task definition prepare would start for a driver TOML and the job's CI variables. */
function taskDefinitionFor(options: { fargate?: string; extra?: string; env?: Record<string, string> }): string {
  const { ctx } = testContext(options);
  const overrides = readOverrides(ctx.env.variables, ctx.config.overrides);
  return planLaunch(ctx.config, ctx.env, ctx.cli, overrides, 'ssh-ed25519 AAAA test', 'seed').taskDefinition;
}

function refusal(options: { fargate?: string; extra?: string; env?: Record<string, string> }): string {
  try {
    taskDefinitionFor(options);
  } catch (error) {
    expect(error).toBeInstanceOf(OverrideRefused);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('FARGATE_CPU_ARCHITECTURE', () => {
  it("gives a job that asks for ARM64 the environment's ARM64 task definition", () => {
    expect(taskDefinitionFor({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'ARM64' } })).toBe('ci-job-arm64:5');
    // Written the way `uname -m`-minded people might: the case does not matter.
    expect(taskDefinitionFor({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'arm64' } })).toBe('ci-job-arm64:5');
  });

  it('keeps the usual task definition for X86_64, and when the job does not ask', () => {
    expect(taskDefinitionFor({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'X86_64' } })).toBe('ci-job:3');
    expect(taskDefinitionFor({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: ' ' } })).toBe('ci-job:3');
    expect(taskDefinitionFor({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED })).toBe('ci-job:3');
  });

  it('refuses an architecture the administrator did not allow', () => {
    expect(refusal({ fargate: ARM64_OFFERED, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'ARM64' } })).toBe(
      'FARGATE_CPU_ARCHITECTURE: "ARM64" is not allowed: [Overrides] CpuArchitectures is empty, so jobs may not choose this',
    );
    const onlyArm = '[Overrides]\nCpuArchitectures = ["ARM64"]';
    expect(refusal({ fargate: ARM64_OFFERED, extra: onlyArm, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'X86_64' } })).toBe(
      'FARGATE_CPU_ARCHITECTURE: "X86_64" is not allowed: [Overrides] CpuArchitectures allows "ARM64"',
    );
  });

  it('refuses a value that is not a Fargate architecture', () => {
    expect(refusal({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED, env: { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'aarch64' } })).toBe(
      'FARGATE_CPU_ARCHITECTURE: expected X86_64 or ARM64, found "aarch64"',
    );
  });

  it('refuses an architecture together with a task definition of the job', () => {
    const env = { CUSTOM_ENV_FARGATE_CPU_ARCHITECTURE: 'ARM64', CUSTOM_ENV_FARGATE_TASK_DEFINITION: 'ci-large' };
    expect(refusal({ fargate: ARM64_OFFERED, extra: BOTH_ALLOWED, env })).toBe(
      'FARGATE_CPU_ARCHITECTURE: set either FARGATE_CPU_ARCHITECTURE or FARGATE_TASK_DEFINITION, not both: the task definition decides the architecture',
    );
  });
});

describe('taskDefinitionForArchitecture', () => {
  it('refuses ARM64 when a config built in code allows it without an ARM64 task definition', () => {
    const { ctx } = testContext({});
    expect(() => taskDefinitionForArchitecture(ctx.config.fargate, 'ARM64')).toThrow(
      'FARGATE_CPU_ARCHITECTURE: this runner has no ARM64 task definition: its administrator must set [Fargate] Arm64TaskDefinition',
    );
    expect(taskDefinitionForArchitecture(ctx.config.fargate, 'X86_64')).toBeUndefined();
  });
});
