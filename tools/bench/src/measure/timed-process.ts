import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The reporter module that records a Node child's peak RSS: compiled beside this file in dist/; from the sources
 * (tests run by vitest), the compiled copy in dist/.
 */
const rssReporter = [new URL('./rss-reporter.js', import.meta.url), new URL('../../dist/measure/rss-reporter.js', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path));

/** Options of {@link runTimed}. */
export interface TimedProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to the child's stdin, then stdin is closed. @default stdin closed at once */
  readonly stdin?: Readable;
  /**
   * Record the peak RSS of a Node child (through `--import` of the reporter). Off for timing runs: loading the
   * reporter costs a little start-up time.
   * @default false
   */
  readonly measureRss?: boolean;
  /**
   * Bytes per second the reader of stdout accepts, to play a slow consumer (back-pressure on the child).
   * @default unlimited
   */
  readonly readRateBytesPerSecond?: number;
  /** Kill the child after this long. @default 300_000 */
  readonly timeoutMs?: number;
}

/** What one measured process did. */
export interface TimedProcessResult {
  readonly exitCode: number | null;
  /** Spawn to exit, ms. */
  readonly ms: number;
  /** Spawn to the first stdout byte, ms (NaN when there was none). */
  readonly firstByteMs: number;
  /** Spawn to the last stdout byte, ms (NaN when there was none). */
  readonly lastByteMs: number;
  /** Wall-clock time (epoch ms) of the first stdout byte (NaN when there was none). */
  readonly firstByteAt: number;
  readonly stdoutBytes: number;
  /** The first 64 KiB of stdout, for checks and error messages. */
  readonly stdoutHead: string;
  readonly stderr: string;
  /** Peak RSS in MiB, when measured. */
  readonly maxRssMiB?: number;
}

/**
 * Runs a process, counting (not keeping) its stdout, and times it with `performance.now()`.
 */
export async function runTimed(command: string, args: readonly string[], options: TimedProcessOptions = {}): Promise<TimedProcessResult> {
  let rssDir: string | undefined;
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  if (options.measureRss) {
    if (!rssReporter) throw new Error('the peak-RSS reporter dist/measure/rss-reporter.js is missing: run npx projen compile in tools/bench');
    rssDir = mkdtempSync(join(tmpdir(), 'gitlab-fargate-bench-rss-'));
    env.GITLAB_FARGATE_BENCH_RSS_FILE = join(rssDir, 'maxrss');
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(rssReporter).href}`.trim();
  }
  try {
    const started = performance.now();
    const child = spawn(command, args, { env, cwd: options.cwd, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (options.stdin && child.stdin) options.stdin.pipe(child.stdin);
    const { stdout, stderr: errors } = child;
    if (!stdout || !errors) throw new Error(`spawn ${command}: no output pipes`);
    let stdoutBytes = 0;
    let firstByteMs = Number.NaN;
    let firstByteAt = Number.NaN;
    let lastByteMs = Number.NaN;
    let head = '';
    let stderr = '';
    const rate = options.readRateBytesPerSecond;
    stdout.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (stdoutBytes === 0) {
        firstByteMs = now - started;
        firstByteAt = Date.now();
      }
      lastByteMs = now - started;
      stdoutBytes += chunk.length;
      if (head.length < 65_536) head += chunk.toString('utf8', 0, Math.min(chunk.length, 65_536 - head.length));
      if (rate !== undefined) {
        // A slow reader: stop reading for as long as this chunk "takes", so the pipe fills and the child must wait.
        stdout.pause();
        setTimeout(() => stdout.resume(), (chunk.length / rate) * 1000);
      }
    });
    errors.on('data', (chunk: Buffer) => {
      if (stderr.length < 65_536) stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    clearTimeout(timer);
    const ms = performance.now() - started;
    let maxRssMiB: number | undefined;
    if (rssDir) {
      try {
        maxRssMiB = Number(readFileSync(join(rssDir, 'maxrss'), 'utf8').trim()) / 1024;
      } catch {
        maxRssMiB = undefined;
      }
    }
    return {
      exitCode, ms, firstByteMs, lastByteMs, firstByteAt, stdoutBytes, stdoutHead: head, stderr,
      ...(maxRssMiB !== undefined ? { maxRssMiB } : {}),
    };
  } finally {
    if (rssDir) rmSync(rssDir, { recursive: true, force: true });
  }
}

/** Throws with the child's stderr when it did not exit 0. */
export function expectSuccess(what: string, result: TimedProcessResult): TimedProcessResult {
  if (result.exitCode !== 0) {
    throw new Error(`${what} exited ${result.exitCode}:\n${result.stderr.slice(-4000)}\n${result.stdoutHead.slice(-2000)}`);
  }
  return result;
}
