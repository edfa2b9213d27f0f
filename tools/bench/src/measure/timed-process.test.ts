import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { expectSuccess, runTimed } from './timed-process.js';

describe('runTimed', () => {
  it('counts stdout bytes and times the first and last byte', async () => {
    const result = await runTimed(process.execPath, ['-e', 'process.stdout.write("x".repeat(100000))']);
    expect(result.exitCode).toBe(0);
    expect(result.stdoutBytes).toBe(100_000);
    expect(result.firstByteMs).toBeGreaterThan(0);
    expect(result.lastByteMs).toBeGreaterThanOrEqual(result.firstByteMs);
    expect(result.ms).toBeGreaterThanOrEqual(result.lastByteMs);
    expect(result.maxRssMiB).toBeUndefined();
  });

  it('reports a Node child\'s peak RSS through the --import reporter, which sees the allocation', async () => {
    const small = await runTimed(process.execPath, ['-e', '0'], { measureRss: true });
    const big = await runTimed(process.execPath, ['-e', 'globalThis.b = Buffer.alloc(96 * 1024 * 1024, 1)'], { measureRss: true });
    expect(small.maxRssMiB).toBeGreaterThan(10);
    expect(big.maxRssMiB! - small.maxRssMiB!).toBeGreaterThan(80);
  });

  it('feeds stdin and plays a slow reader that makes the writer wait', async () => {
    const echo = await runTimed('cat', [], { stdin: Readable.from(['hello']) });
    expect(echo.stdoutHead).toBe('hello');
    const slow = await runTimed('head', ['-c', String(2 * 1024 * 1024), '/dev/zero'], { readRateBytesPerSecond: 8 * 1024 * 1024 });
    expect(slow.stdoutBytes).toBe(2 * 1024 * 1024);
    expect(slow.ms).toBeGreaterThan(150);
  });

  it('expectSuccess names the command and shows its stderr', async () => {
    const result = await runTimed(process.execPath, ['-e', 'console.error("boom"); process.exit(4)']);
    expect(() => expectSuccess('the thing', result)).toThrow(/the thing exited 4:\nboom/);
  });
});
