import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEEPER_LOCK_FILE, lockPoolDirectory } from './keeper-lock.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('lockPoolDirectory', () => {
  it('lets one keeper in while it lives, and releases on request', () => {
    root = mkdtempSync(join(tmpdir(), 'gf-lock-'));
    const release = lockPoolDirectory(root);
    expect(() => lockPoolDirectory(root, 1)).toThrow(new RegExp(`another pool keeper \\(pid ${process.pid}\\) keeps`));
    release();
    expect(existsSync(join(root, KEEPER_LOCK_FILE))).toBe(false);
    lockPoolDirectory(root)();
  });

  it('takes over from a keeper that died without releasing (SIGKILL)', () => {
    root = mkdtempSync(join(tmpdir(), 'gf-lock-'));
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(root, KEEPER_LOCK_FILE), `${dead}\n`);
    const release = lockPoolDirectory(root);
    release();
  });
});
