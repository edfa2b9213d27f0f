import { describe, expect, it } from 'vitest';
import { ECS_TASK_LIMITS, LimitExceeded, overridesCharacters } from './limits.js';
import { derivedTaskOverrides, type DerivedTaskOverridesInput } from './overrides.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOz0123456789abcdefghijklmnopqrstuvwxyzABCD job';

const base = (helperPadding: string): DerivedTaskOverridesInput => ({
  helperContainerName: 'ci-coordinator',
  helperEnvironment: { SSH_PUBLIC_KEY: KEY, PAD: helperPadding },
  build: { containerName: 'build', sshPublicKey: KEY, hostnames: ['postgres', 'db'], user: '1000' },
  services: [],
});

/** Input whose overrides are exactly `characters` long. */
const sized = (characters: number): DerivedTaskOverridesInput => {
  const probe = overridesCharacters(derivedTaskOverrides(base('')).overrides);
  return base('x'.repeat(characters - probe));
};

describe('derivedTaskOverrides', () => {
  it("gives the helper its environment and the build container the key, hosts and user, under the agent's names", () => {
    expect(derivedTaskOverrides(base('')).overrides.containerOverrides).toEqual([
      { name: 'ci-coordinator', environment: [{ name: 'SSH_PUBLIC_KEY', value: KEY }, { name: 'PAD', value: '' }] },
      {
        name: 'build',
        environment: [
          { name: 'SSH_PUBLIC_KEY', value: KEY },
          { name: 'GITLAB_FARGATE_HOSTS', value: 'postgres db' },
          { name: 'GITLAB_FARGATE_JOB_USER', value: '1000' },
        ],
      },
    ]);
  });

  it('accepts exactly 8192 characters and refuses 8193, naming the limit and the size', () => {
    const atLimit = derivedTaskOverrides(sized(ECS_TASK_LIMITS.overridesCharacters));
    expect(atLimit.characters).toBe(8192);
    expect(overridesCharacters(atLimit.overrides)).toBe(8192);
    expect(() => derivedTaskOverrides(sized(8193))).toThrow(LimitExceeded);
    expect(() => derivedTaskOverrides(sized(8193))).toThrow("RunTask's overrides for this job are 8193 characters, over ECS's limit of 8192");
  });

  it("leaves inherited job variables out of services, largest first, until it fits, and never the service's own", () => {
    const inherited = Array.from({ length: 40 }, (_, index) => ({ name: `CI_VAR_${index}`, value: 'v'.repeat(index * 10) }));
    const own = [{ name: 'POSTGRES_PASSWORD', value: 'p'.repeat(500) }];
    const input: DerivedTaskOverridesInput = {
      ...base(''),
      services: [
        { containerName: 'svc-0', environment: { environment: [...inherited, ...own], ownCount: 1, withheld: [] } },
        { containerName: 'svc-1', environment: { environment: inherited, ownCount: 0, withheld: [] } },
      ],
    };
    const result = derivedTaskOverrides(input);
    expect(result.characters).toBeLessThanOrEqual(8192);
    expect(result.characters).toBe(overridesCharacters(result.overrides));
    expect(result.dropped.length).toBeGreaterThan(0);
    expect(result.dropped.slice(0, 2).sort()).toEqual(['svc-0: CI_VAR_39', 'svc-1: CI_VAR_39']);
    const svc0 = result.overrides.containerOverrides?.find((override) => override.name === 'svc-0');
    expect(svc0?.environment).toContainEqual(own[0]);
    expect(svc0?.environment).toContainEqual({ name: 'CI_VAR_1', value: 'v'.repeat(10) });
    const kept = (name: string): number =>
      result.overrides.containerOverrides?.find((override) => override.name === name)?.environment?.length ?? 0;
    expect(kept('svc-0') + kept('svc-1') + result.dropped.length).toBe(81);
  });

  it("refuses when the services' own variables alone are too large", () => {
    const input: DerivedTaskOverridesInput = {
      ...base(''),
      services: [{ containerName: 'svc-0', environment: { environment: [{ name: 'BIG', value: 'b'.repeat(9000) }], ownCount: 1, withheld: [] } }],
    };
    expect(() => derivedTaskOverrides(input)).toThrow(/over ECS's limit of 8192, even with no job variables passed to the services/);
  });
});
