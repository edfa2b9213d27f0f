import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { claim, ensurePoolDirectory, listEntries, moveEntry, writeEntry } from './directory.js';
import type { PoolEntry } from './entry.js';

const KEY = '0123456789abcdef';
const HASH = 'fedcba9876543210';
const NOW = Date.parse('2026-12-03T06:00:00Z');
const CLAIMER = fileURLToPath(new URL('../../test/pool-claimer.ts', import.meta.url));
let root: string;

afterEach(() => rmSync(root, { recursive: true, force: true }));

function entry(n: number, over: Partial<PoolEntry> = {}): PoolEntry {
  return {
    version: 1,
    pool: 'default',
    poolKey: KEY,
    configHash: HASH,
    cluster: 'ci',
    fillId: `fill-${n}`,
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/ci/${String(n).padStart(32, '0')}`,
    port: 22,
    username: 'root',
    privateKey: 'PRIVATE',
    publicKey: 'ssh-ed25519 AAAA',
    launchedAt: new Date(NOW).toISOString(),
    idleDeadline: NOW / 1000 + 1200 + n,
    ...over,
  };
}

function setUp(): string {
  root = mkdtempSync(join(tmpdir(), 'gf-pool-'));
  const dir = join(root, 'pool');
  ensurePoolDirectory(dir, 'default');
  return dir;
}

describe('the pool directory', () => {
  it('writes 0600 entries in 0700 directories, named for claimers, and lists them', () => {
    const dir = setUp();
    const path = writeEntry(dir, entry(1), 'ready');
    expect(path).toMatch(new RegExp(`/default/ready/${NOW / 1000 + 1201}\\.${KEY}\\.${HASH}\\.0+1\\.json$`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'default')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'default', 'ready')).mode & 0o777).toBe(0o700);
    writeEntry(dir, entry(2, { taskArn: undefined }), 'pending');
    expect(listEntries(dir, 'default').map((e) => [e.state, e.entry.fillId]).sort()).toEqual([['pending', 'fill-2'], ['ready', 'fill-1']]);
    expect(readdirSync(join(dir, 'default')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('claims the matching entry that expires first, never one within the claim margin, never another key or hash', () => {
    const dir = setUp();
    writeEntry(dir, entry(1, { idleDeadline: NOW / 1000 + 119 }), 'ready'); // inside the 120 s margin
    writeEntry(dir, entry(2, { poolKey: 'aaaaaaaaaaaaaaaa' }), 'ready');
    writeEntry(dir, entry(3, { configHash: 'bbbbbbbbbbbbbbbb' }), 'ready');
    writeEntry(dir, entry(5), 'ready');
    writeEntry(dir, entry(4), 'ready');
    const request = { root: dir, pools: ['default'], poolKey: KEY, configHash: HASH, jobKey: 'abc-0011223344556677', claimMarginSeconds: 120, nowMs: NOW };
    expect(claim(request)?.entry.fillId).toBe('fill-4');
    expect(claim(request)?.entry.fillId).toBe('fill-5');
    expect(claim(request)).toBeUndefined();
    const claimed = readdirSync(join(dir, 'default', 'claimed')).sort();
    expect(claimed).toEqual([`${'0'.repeat(31)}4.abc-0011223344556677.json`, `${'0'.repeat(31)}5.abc-0011223344556677.json`]);
  });

  it("claims only from the configured pools: a removed pool's folder is its keeper's to empty", () => {
    const dir = setUp();
    ensurePoolDirectory(dir, 'removed');
    writeEntry(dir, entry(1, { pool: 'removed' }), 'ready');
    const request = { root: dir, poolKey: KEY, configHash: HASH, jobKey: 'job', claimMarginSeconds: 0, nowMs: NOW };
    expect(claim({ ...request, pools: ['default'] })).toBeUndefined();
    expect(claim({ ...request, pools: ['default', 'removed'] })?.entry.fillId).toBe('fill-1');
  });

  it('lets the keeper and a claimer race for one entry: one rename wins', () => {
    const dir = setUp();
    writeEntry(dir, entry(1), 'ready');
    const [stored] = listEntries(dir, 'default');
    expect(claim({ root: dir, pools: ['default'], poolKey: KEY, configHash: HASH, jobKey: 'job', claimMarginSeconds: 0, nowMs: NOW })).toBeDefined();
    expect(moveEntry(stored!, 'draining')).toBeUndefined();
  });

  it('gives 5 ready entries to exactly 5 of 20 claimer processes racing at once, none twice', async () => {
    const dir = setUp();
    for (let n = 1; n <= 5; n++) writeEntry(dir, entry(n, { idleDeadline: Math.floor(Date.now() / 1000) + 1200 + n }), 'ready');
    const start = join(root, 'go');
    const children = Array.from({ length: 20 }, (_, i) => claimer(dir, `job-${i}`, start));
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(start, '');
    const results = await Promise.all(children.map((c) => c.result));
    const won = results.map((r) => r.taskArn).filter((arn): arn is string => arn !== null);
    expect(won).toHaveLength(5);
    expect(new Set(won).size).toBe(5);
    expect(results.filter((r) => r.taskArn === null)).toHaveLength(15);
    expect(readdirSync(join(dir, 'default', 'ready'))).toEqual([]);
    expect(readdirSync(join(dir, 'default', 'claimed'))).toHaveLength(5);
    const micros = results.map((r) => r.micros).sort((a, b) => a - b);
    process.stdout.write(`pool claim (readdir + rename + read) in 20 racing processes: median ${micros[10]!.toFixed(0)} µs, max ${micros[19]!.toFixed(0)} µs\n`);
  }, 60_000);
});

interface Claimer {
  readonly ready: Promise<void>;
  readonly result: Promise<{ taskArn: string | null; micros: number }>;
}

function claimer(dir: string, jobKey: string, start: string): Claimer {
  const child = spawn(process.execPath, ['--import', 'tsx', CLAIMER, dir, KEY, HASH, jobKey, start], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const result = new Promise<{ taskArn: string | null; micros: number }>((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.split('\n')[1]!)) : reject(new Error(`claimer exited ${code}: ${out}`))));
  });
  return { ready, result };
}
