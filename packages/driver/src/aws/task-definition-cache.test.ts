import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTaskDefinitionCache, tryLock, updateTaskDefinitionCache } from './task-definition-cache.js';

const HASH = 'a'.repeat(64);
const ENTRY = { family: 'ci-job-aaaaaaaaaaaaaaaa', arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/ci-job-aaaaaaaaaaaaaaaa:1', lastUsedAt: '2026-12-01T00:00:00.000Z' };

describe('the task definition cache file', () => {
  it('is written with mode 0600 by rename, leaving no temporary file, and read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'td-cache-'));
    const file = join(dir, 'task-definitions.json');
    updateTaskDefinitionCache(file, (entries) => {
      entries[HASH] = ENTRY;
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['task-definitions.json']);
    expect(readTaskDefinitionCache(file)).toEqual({ [HASH]: ENTRY });
  });

  it('reads a missing, damaged or foreign file as empty, and drops entries that are not whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'td-cache-'));
    expect(readTaskDefinitionCache(join(dir, 'missing.json'))).toEqual({});
    writeFileSync(join(dir, 'damaged.json'), '{"version":1,"entries":');
    expect(readTaskDefinitionCache(join(dir, 'damaged.json'))).toEqual({});
    writeFileSync(join(dir, 'v2.json'), JSON.stringify({ version: 2, entries: { [HASH]: ENTRY } }));
    expect(readTaskDefinitionCache(join(dir, 'v2.json'))).toEqual({});
    writeFileSync(join(dir, 'partial.json'), JSON.stringify({ version: 1, entries: { [HASH]: ENTRY, short: ENTRY, ['b'.repeat(64)]: { family: 'x' } } }));
    expect(readTaskDefinitionCache(join(dir, 'partial.json'))).toEqual({ [HASH]: ENTRY });
  });
});

describe('tryLock', () => {
  it('lets one holder in at a time, and again after release', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'td-lock-')), 'x.lock');
    const held = tryLock(path, 60_000, Date.now());
    expect(held).toBeDefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(tryLock(path, 60_000, Date.now())).toBeUndefined();
    held?.release();
    expect(tryLock(path, 60_000, Date.now())).toBeDefined();
  });

  it('breaks a lock older than the stale age (its holder crashed), and only then', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'td-lock-')), 'x.lock');
    writeFileSync(path, '12345\n');
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(path, old, old);
    expect(tryLock(path, 180_000, Date.now())).toBeUndefined();
    expect(tryLock(path, 60_000, Date.now())).toBeDefined();
  });
});
