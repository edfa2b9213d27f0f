import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JobState, listStates, readState, removeState, stateStem, statePath, writeState } from './state.js';

const STATE: JobState = {
  version: 1,
  jobId: '42',
  runnerShortToken: 'abc123xyz',
  cluster: 'ci',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/abc',
  port: 22,
  username: 'root',
  privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n',
  publicKey: 'ssh-ed25519 AAAA',
  createdAt: '2026-11-28T09:00:00.000Z',
};

describe('job state file', () => {
  it('is named from the runner token and a short hash of token and job id, whatever the token looks like', () => {
    expect(stateStem('abc123xyz', '42')).toMatch(/^abc123xyz-[0-9a-f]{16}$/);
    expect(stateStem('abc123xyz', '42')).toBe(stateStem('abc123xyz', '42'));
    expect(stateStem('abc123xyz', '43')).not.toBe(stateStem('abc123xyz', '42'));
    const jwtLike = `eyJ${'a'.repeat(2000)}.b/c+d=`;
    expect(stateStem(jwtLike, '42').length).toBeLessThanOrEqual(33);
    expect(stateStem('', '42')).toMatch(/^unknown-/);
  });

  it('is written atomically with mode 0600, creating the directory, and read back', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'driver-state-')), 'nested', 'metadata');
    const path = statePath(dir, 'abc123xyz', '42');
    writeState(path, STATE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readState(path)).toEqual(STATE);
    writeState(path, { ...STATE, address: '10.0.0.4' });
    expect(readState(path)?.address).toBe('10.0.0.4');
    // No temporary files left behind.
    expect(readdirSync(dir)).toEqual([path.slice(dir.length + 1)]);
  });

  it('reads as absent when missing, and removal is idempotent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = statePath(dir, 'abc123xyz', '42');
    expect(readState(path)).toBeUndefined();
    removeState(path);
    writeState(path, STATE);
    removeState(path);
    removeState(path);
    expect(readState(path)).toBeUndefined();
  });

  it('refuses a damaged file, saying what is wrong and what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = join(dir, 'x.json');
    writeFileSync(path, '{"version":1,"jobId":42}');
    expect(() => readState(path)).toThrow(/is damaged \(jobId must be a string, .*port must be an integer\); remove it and retry the job/);
    writeFileSync(path, '{not json');
    expect(() => readState(path)).toThrow(/is not valid JSON/);
  });

  it('lists the live states of a directory, skipping damaged and foreign files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    writeState(statePath(dir, 'abc123xyz', '1'), STATE);
    writeState(statePath(dir, 'abc123xyz', '2'), { ...STATE, jobId: '2' });
    writeFileSync(join(dir, 'junk.json'), 'nope');
    writeFileSync(join(dir, 'notes.txt'), 'hi');
    expect(listStates(dir).map((s) => s.jobId).sort()).toEqual(['2', '42']);
    expect(listStates(join(dir, 'missing'))).toEqual([]);
    expect(readFileSync(statePath(dir, 'abc123xyz', '1'), 'utf8')).toContain('"taskArn"');
  });
});
