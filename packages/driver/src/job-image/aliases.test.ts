import { describe, expect, it } from 'vitest';
import { defaultServiceNames, isDns1123Subdomain, serviceHostnames, userAliases } from './aliases.js';
import type { JobService } from './payload.js';

const service = (name: string, alias = ''): JobService => ({ name, alias, variables: [], ports: [] });

describe('defaultServiceNames (gitlab-runner SplitNameAndVersion)', () => {
  it.each([
    ['postgres', ['postgres']],
    ['postgres:16', ['postgres']],
    ['tutum/wordpress:latest', ['tutum__wordpress', 'tutum-wordpress']],
    ['registry.example.com:5000/group/pg:16', ['registry.example.com__group__pg', 'registry.example.com-group-pg']], // the port goes, the host stays
    [`redis@sha256:${'a'.repeat(64)}`, ['redis']],
    [`group/redis:7@sha256:${'b'.repeat(64)}`, ['group__redis', 'group-redis']],
    ['Not A Reference', []],
  ])('%s → %j', (image, names) => {
    expect(defaultServiceNames(image)).toEqual(names);
  });
});

describe('userAliases (Image.Aliases: "," or white space)', () => {
  it('splits on commas and any white space, dropping empties', () => {
    expect(userAliases('db, pg\tprimary,,')).toEqual(['db', 'pg', 'primary']);
    expect(userAliases('')).toEqual([]);
  });
});

describe('serviceHostnames', () => {
  it('gives both default names and the aliases, each once, in order', () => {
    expect(serviceHostnames([service('tutum/wordpress:6', 'blog'), service('postgres:16', 'db,pg'), service('postgres:15')])).toEqual([
      'tutum__wordpress',
      'tutum-wordpress',
      'blog',
      'postgres',
      'db',
      'pg',
    ]);
  });

  it('refuses an alias that is not an RFC 1123 host name, naming it and its service', () => {
    for (const bad of ['DB', 'my_db', '-db', 'db-', 'a'.repeat(254)]) {
      expect(() => serviceHostnames([service('postgres:16', bad)])).toThrow(`services: alias ${JSON.stringify(bad)} of "postgres:16" is not a valid host name`);
    }
  });

  it('accepts dotted names up to 253 characters', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(long).toHaveLength(253);
    expect(isDns1123Subdomain(long)).toBe(true);
    expect(serviceHostnames([service('postgres:16', 'db.internal')])).toContain('db.internal');
  });
});
