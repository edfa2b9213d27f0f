import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepStateDirectory } from './state-sweep.js';

const NOW = Date.parse('2026-12-03T08:00:00Z');

/** A file in `dir` last modified `minutesAgo` before {@link NOW}. */
function file(dir: string, name: string, minutesAgo: number): string {
  const path = join(dir, name);
  writeFileSync(path, 'x');
  const time = new Date(NOW - minutesAgo * 60_000);
  utimesSync(path, time, time);
  return path;
}

describe('sweepStateDirectory: only what the driver itself names so', () => {
  it('takes a crashed writer\'s temporary file, and no file whose name merely contains one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-sweep-'));
    const crashed = file(dir, '.0123456789ab.tmp', 11);
    for (const name of ['backup.0123456789ab.tmp', '.0123456789ab.tmp.orig', '.0123456789abc.tmp', '.0123456789AB.tmp']) file(dir, name, 60);
    expect(sweepStateDirectory(dir, { now: NOW, dryRun: false })).toEqual([crashed]);
    expect(readdirSync(dir).sort()).toEqual(['.0123456789AB.tmp', '.0123456789ab.tmp.orig', '.0123456789abc.tmp', 'backup.0123456789ab.tmp']);
  });

  it('takes a socket whose state is gone, and no socket whose name merely contains a job\'s stem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-sweep-'));
    const orphan = file(dir, 'abc123xyz-00112233445566ff.sock', 60);
    const lookalikes = ['my.abc123xyz-00112233445566ff.sock', 'abc123xyz-00112233445566ff0.sock', 'abc123xyz-00112233445566ff.sock.old'];
    for (const name of lookalikes) file(dir, name, 60);
    expect(sweepStateDirectory(dir, { now: NOW, dryRun: false })).toEqual([orphan]);
    expect(readdirSync(dir).sort()).toEqual([...lookalikes].sort());
  });
});
