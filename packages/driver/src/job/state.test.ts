import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JobState, UnusableState, listStates, parseState, readState, removeState, stateStem, statePath, writeState } from './state.js';

/** A user other than the one running the tests (`nobody`); giving a file away needs root. */
const OTHER_UID = 65534;
const UID = process.getuid?.() ?? -1;
const asRoot = it.runIf(UID === 0);

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

  it('is written with mode 0600, creating the directory, and read back', () => {
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

  it('is replaced atomically: a complete new file renamed over the old one, never rewritten in place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = statePath(dir, 'abc123xyz', '42');
    writeState(path, STATE);
    const before = readFileSync(path, 'utf8');
    // A second name for the file a reader has open: what that reader sees while the state is rewritten.
    const openedByReader = join(dir, 'reader-view');
    linkSync(path, openedByReader);
    writeState(path, { ...STATE, address: '10.0.0.4', privateKey: 'k'.repeat(1 << 20) });
    // An in-place write would truncate and refill the reader's file; a rename leaves it whole and untouched.
    expect(readFileSync(openedByReader, 'utf8')).toBe(before);
    expect(statSync(path).ino).not.toBe(statSync(openedByReader).ino);
    expect(readState(path)?.privateKey).toHaveLength(1 << 20);
    rmSync(openedByReader);
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
    expect(() => readState(path)).toThrow(UnusableState);
    writeFileSync(path, '{not json');
    expect(() => readState(path)).toThrow(/is not valid JSON/);
  });

  it('lists the live states of a directory with their paths, reporting damaged and foreign files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    writeState(statePath(dir, 'abc123xyz', '1'), STATE);
    writeState(statePath(dir, 'abc123xyz', '2'), { ...STATE, jobId: '2' });
    writeFileSync(join(dir, 'junk.json'), 'nope');
    writeFileSync(join(dir, 'notes.txt'), 'hi');
    const unusable: string[] = [];
    const entries = listStates(dir, (path, error) => unusable.push(`${path} ${error.problem}`));
    expect(entries.map((e) => e.state.jobId).sort()).toEqual(['2', '42']);
    expect(entries.find((e) => e.state.jobId === '2')?.path).toBe(statePath(dir, 'abc123xyz', '2'));
    expect(unusable).toEqual([`${join(dir, 'junk.json')} is not valid JSON`]);
    expect(listStates(join(dir, 'missing'))).toEqual([]);
    expect(readFileSync(statePath(dir, 'abc123xyz', '1'), 'utf8')).toContain('"taskArn"');
  });
});

describe('job state directory and files are trusted only when nobody else could have written them', () => {
  it('refuses a directory that group or others may write, naming it, its owner and mode, and the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = statePath(dir, 'abc123xyz', '42');
    writeState(path, STATE);
    for (const mode of [0o777, 0o1777, 0o770]) {
      chmodSync(dir, mode);
      const expected = new RegExp(`refusing the job state directory ${dir} \\(owner uid ${UID}, mode ${mode.toString(8).padStart(4, '0')}\\): it is writable by group or others\\..*chmod 700 ${dir}`);
      expect(() => writeState(path, STATE)).toThrow(expected);
      expect(() => readState(path)).toThrow(expected);
      expect(() => listStates(dir)).toThrow(expected);
    }
    chmodSync(dir, 0o750); // readable by the group is fine: the files themselves are 0600
    expect(readState(path)).toEqual(STATE);
  });

  asRoot('refuses a directory owned by another user, even with mode 0700', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = statePath(dir, 'abc123xyz', '42');
    writeState(path, STATE);
    chownSync(dir, OTHER_UID, OTHER_UID);
    const expected = /refusing the job state directory .* \(owner uid 65534, mode 0700\): it belongs to uid 65534, not to this user \(uid 0\)\..*chown 0 /;
    expect(() => readState(path)).toThrow(expected);
    expect(() => writeState(path, STATE)).toThrow(expected);
  });

  it('refuses a symbolic link to a directory, even to a trustworthy one, naming the link, its target and the fix', () => {
    const base = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const real = join(base, 'real');
    const link = join(base, 'link');
    mkdirSync(real, { mode: 0o700 });
    writeState(statePath(real, 'abc123xyz', '42'), STATE);
    symlinkSync(real, link);
    const expected = new RegExp(`^refusing the job state directory ${link}: it is a symbolic link \\(to ${real}\\)\\..*Fix: point \\[TaskMetadata\\] Directory at the folder itself`);
    expect(() => listStates(link)).toThrow(expected);
    expect(() => readState(statePath(link, 'abc123xyz', '42'))).toThrow(expected);
    expect(() => writeState(statePath(link, 'abc123xyz', '43'), STATE)).toThrow(expected);
    expect(readdirSync(real)).toEqual([stateStem('abc123xyz', '42') + '.json']);
  });

  it('refuses a pre-existing group-writable directory before writing anything into it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'driver-state-')), 'shared');
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o775);
    expect(() => writeState(statePath(dir, 'abc123xyz', '42'), STATE)).toThrow(/writable by group or others/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never follows a symbolic link as a state file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'driver-elsewhere-'));
    writeState(statePath(elsewhere, 'abc123xyz', '42'), { ...STATE, taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/someone-elses' });
    const path = statePath(dir, 'abc123xyz', '42');
    symlinkSync(statePath(elsewhere, 'abc123xyz', '42'), path);
    expect(() => readState(path)).toThrow(/the job state file .* is a symbolic link, which the driver never follows; remove it/);
    expect(() => readState(path)).toThrow(UnusableState);
  });

  asRoot('refuses a state file that another user owns, and one that is not a regular file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = statePath(dir, 'abc123xyz', '42');
    writeState(path, STATE);
    chownSync(path, OTHER_UID, OTHER_UID);
    expect(() => readState(path)).toThrow(/belongs to uid 65534, not to this user \(uid 0\): the driver did not write it; remove it/);
    removeState(path);
    mkdirSync(path);
    expect(() => readState(path)).toThrow(/is not a regular file/);
  });
});

describe('job state file: what a usable one holds', () => {
  const damaged = (value: Record<string, unknown>): string => {
    try {
      parseState(JSON.stringify(value), '/m/x.json');
    } catch (error) {
      if (error instanceof UnusableState) return error.problem;
      throw error;
    }
    throw new Error('expected the state to be refused');
  };

  it('takes a complete state, with its optional fields and a multiplexer', () => {
    const full = { ...STATE, region: 'eu-west-1', address: '10.0.0.4', hostKey: 'AAAA', mux: { pid: 42, socket: '/m/x.sock' } };
    expect(parseState(JSON.stringify(full), '/m/x.json')).toEqual(full);
  });

  it('refuses another version, naming it', () => {
    expect(damaged({ ...STATE, version: 2 })).toBe('is damaged (version must be 1)');
    expect(damaged({ ...STATE, version: '1' })).toBe('is damaged (version must be 1)');
  });

  it('refuses a required field that is missing or not a string, naming each', () => {
    for (const key of ['jobId', 'runnerShortToken', 'cluster', 'username', 'privateKey', 'publicKey', 'createdAt']) {
      expect(damaged({ ...STATE, [key]: 7 }), key).toBe(`is damaged (${key} must be a string)`);
      expect(damaged({ ...STATE, [key]: undefined }), key).toBe(`is damaged (${key} must be a string)`);
    }
  });

  it('refuses an optional field that is there but not a string, naming each', () => {
    for (const key of ['region', 'taskArn', 'address', 'hostKey']) {
      expect(damaged({ ...STATE, [key]: ['x'] }), key).toBe(`is damaged (${key} must be a string)`);
    }
  });

  it('refuses a port that is not a whole number', () => {
    for (const port of ['22', 22.5, null]) expect(damaged({ ...STATE, port }), String(port)).toBe('is damaged (port must be an integer)');
  });

  it('refuses a malformed multiplexer record', () => {
    for (const mux of [null, {}, { pid: '42', socket: '/m/x.sock' }, { pid: 4.2, socket: '/m/x.sock' }, { pid: 42 }, { pid: 42, socket: 7 }]) {
      expect(damaged({ ...STATE, mux }), JSON.stringify(mux)).toBe('is damaged (mux must be { pid: integer, socket: string })');
    }
  });

  it("takes a warm start's pool record, and refuses a malformed one", () => {
    const warm = { ...STATE, pool: { name: 'warm', claimMs: 3 } };
    expect(parseState(JSON.stringify(warm), '/m/x.json')).toEqual(warm);
    for (const pool of [null, {}, { name: 'warm' }, { name: 7, claimMs: 3 }, { name: 'warm', claimMs: -1 }, { name: 'warm', claimMs: '3' }]) {
      expect(damaged({ ...STATE, pool }), JSON.stringify(pool)).toBe('is damaged (pool must be { name: string, claimMs: number >= 0 })');
    }
  });

  it('names every problem at once, and the file and the fix', () => {
    expect(() => parseState(JSON.stringify({ ...STATE, version: 0, cluster: 1, port: 'x' }), '/m/x.json')).toThrow(
      'the job state file /m/x.json is damaged (version must be 1, cluster must be a string, port must be an integer); remove it and retry the job',
    );
  });
});

describe('job state file: writing and listing', () => {
  it('leaves no temporary file when the write fails, and says which state file it could not write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const path = statePath(dir, 'abc123xyz', '42');
    // A directory where the file should go: the rename over it fails after the temporary file was written.
    mkdirSync(path);
    writeFileSync(join(path, 'keep'), 'x');
    expect(() => writeState(path, STATE)).toThrow(new RegExp(`^cannot write the job state file ${path}: `));
    expect(readdirSync(dir)).toEqual([path.slice(dir.length + 1)]);
  });

  it('names a job with a token of no usable character "unknown", and cuts a long token to 16 characters', () => {
    expect(stateStem('@@@ ///', '42')).toMatch(/^unknown-[0-9a-f]{16}$/);
    expect(stateStem('a.b/c', '42')).toMatch(/^abc-[0-9a-f]{16}$/);
    expect(stateStem('abcdefghijklmnopqrstuvwxyz', '42')).toMatch(/^abcdefghijklmnop-[0-9a-f]{16}$/);
    expect(stateStem('abc123xyz', '42')).not.toBe(stateStem('abc123xy', 'z42'));
  });

  it('lists only state files: not hidden files, temporary files or other names ending otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    const live = statePath(dir, 'abc123xyz', '42');
    writeState(live, STATE);
    writeFileSync(join(dir, '.hidden.json'), JSON.stringify(STATE));
    writeFileSync(join(dir, 'copy.json.bak'), JSON.stringify(STATE));
    writeFileSync(join(dir, '.0123456789ab.tmp'), JSON.stringify(STATE));
    const unusable: string[] = [];
    expect(listStates(dir, (path) => unusable.push(path))).toEqual([{ path: live, state: STATE }]);
    expect(unusable).toEqual([]);
  });

  it('skips unusable files without a callback, and refuses a directory others may write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    writeFileSync(join(dir, 'junk.json'), 'nope');
    expect(listStates(dir)).toEqual([]);
    chmodSync(dir, 0o770);
    expect(() => listStates(dir)).toThrow(/writable by group or others/);
  });
});
