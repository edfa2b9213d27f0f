import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDriverConfig } from './driver/parse.js';
import { ConfigFileError, MAX_CONFIG_FILE_BYTES } from './errors.js';
import { readConfigFile } from './read-config-file.js';
import { loadRunnerConfig } from './runner/parse.js';

let dir: string;
let fifo: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-read-'));
  fifo = join(dir, 'fifo.toml');
  execFileSync('mkfifo', [fifo]);
});
afterEach(async () => {
  // Should a reader still wait on the FIFO (the bug this guards against), a writer that opens and closes it ends
  // that read, so a failing test does not leave a blocked thread behind.
  await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((handle) => handle.close(), () => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The reason a read was refused; fails when the read succeeds or fails otherwise. */
async function refusal(read: Promise<unknown>): Promise<string> {
  const error = await read.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConfigFileError);
  return (error as ConfigFileError).message;
}

describe('readConfigFile', () => {
  it('reads a regular file, through a symlink too', async () => {
    const file = join(dir, 'ok.toml');
    writeFileSync(file, 'LogLevel = "info" # ü\n');
    execFileSync('ln', ['-s', file, join(dir, 'link.toml')]);
    expect(await readConfigFile(file)).toBe('LogLevel = "info" # ü\n');
    expect(await readConfigFile(join(dir, 'link.toml'))).toBe('LogLevel = "info" # ü\n');
  });

  // Each of these hung (FIFO, /dev/zero) or read without bound before: the test's own timeout is the bound.
  it('refuses a named pipe at once instead of waiting for a writer', { timeout: 5000 }, async () => {
    expect(await refusal(readConfigFile(fifo))).toBe('expected a regular file of at most 1 MiB, found a named pipe (FIFO); give the path of the TOML file itself');
  });

  it('refuses /dev/zero, a directory and a file over 1 MiB', { timeout: 5000 }, async () => {
    expect(await refusal(readConfigFile('/dev/zero'))).toMatch(/found a character device;/);
    expect(await refusal(readConfigFile(dir))).toMatch(/found a directory;/);
    const big = join(dir, 'big.toml');
    writeFileSync(big, Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, 0x23));
    expect(await refusal(readConfigFile(big))).toBe('expected a regular file of at most 1 MiB, found a larger file; give the path of the TOML file itself');
  });

  it('reads a file of exactly 1 MiB', async () => {
    const file = join(dir, 'max.toml');
    writeFileSync(file, Buffer.alloc(MAX_CONFIG_FILE_BYTES, 0x23));
    expect((await readConfigFile(file)).length).toBe(MAX_CONFIG_FILE_BYTES);
  });

  it('passes on the file system error for a missing file', async () => {
    await expect(readConfigFile(join(dir, 'missing.toml'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('loadDriverConfig and loadRunnerConfig', () => {
  it.each([
    ['driver', loadDriverConfig],
    ['runner', loadRunnerConfig],
  ] as const)('%s: refuse a named pipe and /dev/zero at once', { timeout: 5000 }, async (_kind, load) => {
    expect(await refusal(load(fifo))).toMatch(/found a named pipe \(FIFO\)/);
    expect(await refusal(load('/dev/zero'))).toMatch(/found a character device/);
  });
});
