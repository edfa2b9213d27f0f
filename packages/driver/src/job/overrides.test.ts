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

describe('readOverrides: edges of each rule', () => {
  const NO_STORAGE_CEILING: OverridePolicy = { ...GENEROUS, maxEphemeralStorage: undefined };

  it('counts a value of only spaces as unset, and trims the others', () => {
    const blank = { FARGATE_TASK_DEFINITION: ' ', FARGATE_CPU: '   ', FARGATE_MEMORY: '\t', FARGATE_SPOT: ' ', FARGATE_EPHEMERAL_STORAGE: '  ' };
    expect(readOverrides(vars(blank), NOTHING_ALLOWED)).toEqual({});
    expect(readOverrides(vars({ FARGATE_CPU: ' 2048 ', FARGATE_TASK_DEFINITION: ' ci-x ' }), GENEROUS)).toEqual({ cpu: 2048, taskDefinition: 'ci-x' });
  });

  it('accepts a value equal to its ceiling', () => {
    expect(readOverrides(vars({ FARGATE_CPU: '4096', FARGATE_MEMORY: '16384', FARGATE_EPHEMERAL_STORAGE: '100' }), GENEROUS)).toEqual({
      cpu: 4096,
      memory: 16384,
      ephemeralStorageGiB: 100,
    });
  });

  it('checks the Fargate storage range (21-200 GiB) before the ceiling, and accepts its ends', () => {
    const outside = /^FARGATE_EPHEMERAL_STORAGE: \d+ GiB is outside Fargate's 21-200 GiB$/;
    expect(refusal({ FARGATE_EPHEMERAL_STORAGE: '20' }, NO_STORAGE_CEILING).message).toMatch(outside);
    expect(refusal({ FARGATE_EPHEMERAL_STORAGE: '201' }, NO_STORAGE_CEILING).message).toMatch(outside);
    expect(refusal({ FARGATE_EPHEMERAL_STORAGE: '21' }, NO_STORAGE_CEILING).message).toBe(
      'FARGATE_EPHEMERAL_STORAGE: jobs may not choose this: [Overrides] MaxEphemeralStorage is not set',
    );
    const wide = { ...GENEROUS, maxEphemeralStorage: 200 };
    expect(readOverrides(vars({ FARGATE_EPHEMERAL_STORAGE: '21' }), wide)).toEqual({ ephemeralStorageGiB: 21 });
    expect(readOverrides(vars({ FARGATE_EPHEMERAL_STORAGE: '200' }), wide)).toEqual({ ephemeralStorageGiB: 200 });
  });

  it('takes whole numbers only: no sign, unit, decimal or leading and trailing junk', () => {
    for (const raw of ['x50', '50x', '-50', '50.0', '5e1', '0x32']) {
      expect(refusal({ FARGATE_EPHEMERAL_STORAGE: raw }, GENEROUS).message, raw).toBe(
        `FARGATE_EPHEMERAL_STORAGE: expected a whole number of GiB, e.g. 50, found ${JSON.stringify(raw)}`,
      );
    }
    expect(refusal({ FARGATE_MEMORY: '4 GiB' }, GENEROUS).message).toBe('FARGATE_MEMORY: expected a whole number of MiB, e.g. 4096, found "4 GiB"');
  });

  it('checks CPU and memory together only when the job sets both', () => {
    expect(readOverrides(vars({ FARGATE_CPU: '256' }), GENEROUS)).toEqual({ cpu: 256 });
    expect(readOverrides(vars({ FARGATE_MEMORY: '16384' }), GENEROUS)).toEqual({ memory: 16384 });
  });

  it('reads FARGATE_SPOT as true/1/yes or false/0/no in any case, and refuses anything else even where Spot is not allowed', () => {
    for (const raw of ['true', '1', 'yes', 'TRUE', 'Yes']) expect(readOverrides(vars({ FARGATE_SPOT: raw }), GENEROUS), raw).toEqual({ spot: true });
    for (const raw of ['false', '0', 'no', 'False', 'NO']) expect(readOverrides(vars({ FARGATE_SPOT: raw }), GENEROUS), raw).toEqual({ spot: false });
    for (const raw of ['on', '2', 'y', 'truee']) {
      expect(refusal({ FARGATE_SPOT: raw }, GENEROUS).message, raw).toBe(`FARGATE_SPOT: expected true or false, found ${JSON.stringify(raw)}`);
    }
    expect(refusal({ FARGATE_SPOT: 'maybe' }, NOTHING_ALLOWED).message).toBe('FARGATE_SPOT: expected true or false, found "maybe"');
    expect(refusal({ FARGATE_SPOT: 'false' }, NOTHING_ALLOWED).message).toBe(
      'FARGATE_SPOT: choosing Spot or on-demand per job is not allowed: [Overrides] AllowSpot is false',
    );
  });

  it('names the allowed platform versions when refusing one, and takes a listed one', () => {
    expect(refusal({ FARGATE_PLATFORM_VERSION: '1.3.0' }, GENEROUS).message).toBe(
      'FARGATE_PLATFORM_VERSION: "1.3.0" is not allowed: [Overrides] PlatformVersions allows "1.4.0", "LATEST"',
    );
    expect(refusal({ FARGATE_PLATFORM_VERSION: '1.3.0' }, NOTHING_ALLOWED).message).toBe(
      'FARGATE_PLATFORM_VERSION: "1.3.0" is not allowed: [Overrides] PlatformVersions is empty, so jobs may not choose this',
    );
    expect(readOverrides(vars({ FARGATE_PLATFORM_VERSION: 'LATEST' }), GENEROUS)).toEqual({ platformVersion: 'LATEST' });
  });

  it('takes an architecture only without a task definition of the job\'s choosing', () => {
    const arm: OverridePolicy = { ...GENEROUS, cpuArchitectures: ['ARM64'] };
    expect(readOverrides(vars({ FARGATE_CPU_ARCHITECTURE: 'arm64' }), arm)).toEqual({ cpuArchitecture: 'ARM64' });
    expect(refusal({ FARGATE_CPU_ARCHITECTURE: 'ARM64', FARGATE_TASK_DEFINITION: 'ci-arm' }, arm).message).toMatch(/^FARGATE_CPU_ARCHITECTURE: set either/);
    expect(readOverrides(vars({ FARGATE_TASK_DEFINITION: 'ci-arm' }), arm)).toEqual({ taskDefinition: 'ci-arm' });
  });

  it('names the refused CPU value and every Fargate one', () => {
    expect(refusal({ FARGATE_CPU: '1000' }, GENEROUS).message).toBe(
      'FARGATE_CPU: 1000 is not a Fargate CPU value (use one of 256, 512, 1024, 2048, 4096, 8192, 16384)',
    );
  });
});
