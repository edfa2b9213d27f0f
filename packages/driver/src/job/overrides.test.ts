import type { OverridePolicy } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { OverrideRefused } from '../errors.js';
import { readOverrides } from './overrides.js';

const NOTHING_ALLOWED: OverridePolicy = { taskDefinitions: [], platformVersions: [], allowSpot: false };
const GENEROUS: OverridePolicy = {
  taskDefinitions: ['ci-*', 'special:3'],
  platformVersions: ['1.4.0', 'LATEST'],
  maxCpu: 4096,
  maxMemory: 16384,
  maxEphemeralStorage: 100,
  allowSpot: true,
};

const vars = (entries: Record<string, string>) => new Map(Object.entries(entries));

function refusal(entries: Record<string, string>, policy: OverridePolicy): OverrideRefused {
  try {
    readOverrides(vars(entries), policy);
  } catch (error) {
    if (error instanceof OverrideRefused) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('readOverrides', () => {
  it('returns nothing when the job sets nothing (or sets empty values)', () => {
    expect(readOverrides(vars({ FARGATE_TASK_DEFINITION: '', OTHER: 'x' }), NOTHING_ALLOWED)).toEqual({});
  });

  it('accepts what the policy allows', () => {
    expect(
      readOverrides(
        vars({
          FARGATE_TASK_DEFINITION: 'ci-large:7',
          FARGATE_PLATFORM_VERSION: '1.4.0',
          FARGATE_CPU: '2048',
          FARGATE_MEMORY: '8192',
          FARGATE_EPHEMERAL_STORAGE: '60',
          FARGATE_SPOT: 'true',
        }),
        GENEROUS,
      ),
    ).toEqual({ taskDefinition: 'ci-large:7', platformVersion: '1.4.0', cpu: 2048, memory: 8192, ephemeralStorageGiB: 60, spot: true });
  });

  it('refuses everything by default, naming the variable and the rule', () => {
    const td = refusal({ FARGATE_TASK_DEFINITION: 'admin-role-task' }, NOTHING_ALLOWED);
    expect(td.variable).toBe('FARGATE_TASK_DEFINITION');
    expect(td.message).toBe('FARGATE_TASK_DEFINITION: "admin-role-task" is not allowed: [Overrides] TaskDefinitions is empty, so jobs may not choose this');
    expect(refusal({ FARGATE_CPU: '1024' }, NOTHING_ALLOWED).message).toBe('FARGATE_CPU: jobs may not choose this: [Overrides] MaxCpu is not set');
    expect(refusal({ FARGATE_SPOT: 'true' }, NOTHING_ALLOWED).message).toMatch(/^FARGATE_SPOT: .*\[Overrides\] AllowSpot is false/);
    expect(refusal({ FARGATE_PLATFORM_VERSION: '1.3.0' }, NOTHING_ALLOWED).variable).toBe('FARGATE_PLATFORM_VERSION');
  });

  it('refuses values outside the allow-lists and above the ceilings', () => {
    expect(refusal({ FARGATE_TASK_DEFINITION: 'prod-deploy' }, GENEROUS).message).toMatch(/allows "ci-\*", "special:3"/);
    expect(refusal({ FARGATE_TASK_DEFINITION: 'special:4' }, GENEROUS).variable).toBe('FARGATE_TASK_DEFINITION');
    expect(refusal({ FARGATE_CPU: '8192' }, GENEROUS).message).toBe('FARGATE_CPU: 8192 CPU units is above the ceiling [Overrides] MaxCpu = 4096');
    expect(refusal({ FARGATE_MEMORY: '30720' }, GENEROUS).message).toMatch(/above the ceiling \[Overrides\] MaxMemory = 16384/);
    expect(refusal({ FARGATE_EPHEMERAL_STORAGE: '150' }, GENEROUS).message).toMatch(/MaxEphemeralStorage = 100/);
  });

  it('refuses malformed values and sizes Fargate cannot run', () => {
    expect(refusal({ FARGATE_CPU: '1 vCPU' }, GENEROUS).message).toMatch(/expected a whole number of CPU units/);
    expect(refusal({ FARGATE_CPU: '1000' }, GENEROUS).message).toMatch(/not a Fargate CPU value \(use one of 256, 512, 1024/);
    expect(refusal({ FARGATE_CPU: '256', FARGATE_MEMORY: '4096' }, GENEROUS).message).toMatch(
      /FARGATE_MEMORY: 4096 MiB is not a Fargate size with 256 CPU units \(allowed: 512, 1024, 2048\)/,
    );
    expect(refusal({ FARGATE_EPHEMERAL_STORAGE: '20' }, GENEROUS).message).toMatch(/outside Fargate's 21-200 GiB/);
    expect(refusal({ FARGATE_SPOT: 'maybe' }, GENEROUS).message).toMatch(/expected true or false/);
  });
});
