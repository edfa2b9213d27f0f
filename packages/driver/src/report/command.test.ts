import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

/** A driver log recorded from the driver's own metrics records (see test/fixtures/report/README). */
const LOG = fileURLToPath(new URL('../../test/fixtures/report/driver-log.jsonl', import.meta.url));

async function report(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main({
    argv: ['report', ...argv],
    env: {},
    cwd: tmpdir(),
    stdout,
    stderr,
    stdoutFd: 1,
    stderrFd: 2,
    signal: new AbortController().signal,
    stdin: Readable.from([stdin]),
  });
  return { code, stdout: out, stderr: err };
}

describe('gitlab-fargate-driver report', () => {
  it('prints cost and start latency by project and environment for a period, as a table', async () => {
    const { code, stdout, stderr } = await report(['--since', '2026-12-01', '--until', '2026-12-02', LOG]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        "Jobs from 2026-12-01T00:00:00.000Z to 2026-12-02T00:00:00.000Z: cost is the driver's estimate (see its price table and [Pricing]).",
        'PROJECT   ENVIRONMENT  JOBS  FAILED            COST (USD)  START p50  START p95',
        'data/etl  staging         2       1  0.0000 (+1 unpriced)     12.0 s     12.0 s',
        // 900 s × (0.04048 + 2 × 0.004445) $/h; staging: 300 + 60 (the minimum for 45 s) + 600 s.
        'web/shop  production      1       0                0.0123      7.0 s      7.0 s',
        'web/shop  staging         3       1                0.0132      8.4 s     30.5 s',
        'Total: 6 jobs, $0.0255 (9 other log lines skipped)',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON from standard input, every job when no period is given', async () => {
    const { readFileSync } = await import('node:fs');
    const { code, stdout } = await report(['--json', '-'], readFileSync(LOG, 'utf8'));
    expect(code).toBe(0);
    type Group = {
      project: string; environment: string; jobs: number; costUsd: number;
      startLatency?: { p50: number; p95: number; samples: number };
    };
    const parsed = JSON.parse(stdout) as { since: null; until: null; groups: Group[] };
    expect(parsed.since).toBeNull();
    const staging = parsed.groups.find((g) => g.project === 'web/shop' && g.environment === 'staging');
    // 300 + 60 (the minimum for 45 s) + 600 + 60 s at 1 vCPU, 2 GB: (0.04048 + 2 × 0.004445) $/h.
    expect(staging).toMatchObject({ jobs: 4, startLatency: { p50: 6.2, p95: 30.5, samples: 4 } });
    expect(staging?.costUsd).toBeCloseTo((1020 * (0.04048 + 2 * 0.004445)) / 3600, 6);
  });

  it('bad input: a clear error and exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const damaged = join(dir, 'damaged.log');
    writeFileSync(damaged, 'hello\n{"time":"yesterday","level":"info","msg":"job metrics","Environment":"x","project":"p","Outcome":"success"}\n');
    expect(await report([damaged])).toMatchObject({
      code: 1,
      stderr: `gitlab-fargate-driver report: ${damaged}:2: time must be an ISO 8601 time, found "yesterday" (a "job metrics" record, written by the driver's cleanup stage once per job)\n`,
    });
    expect((await report([], 'just\ntext\n')).stderr).toMatch(/^gitlab-fargate-driver report: stdin has no "job metrics" records \(2 other lines\): give the driver's log/);
    expect((await report([join(dir, 'missing.log')])).stderr).toMatch(/cannot read .*missing\.log: ENOENT/);
    expect(await report(['--since', 'last week', LOG])).toMatchObject({ code: 2, stderr: expect.stringContaining('--since: expected an ISO 8601 date or time such as 2026-12-01 or 2026-12-01T08:00:00Z, found "last week"') });
    expect((await report(['--since', '2026-12-02', '--until', '2026-12-01', LOG])).stderr).toContain('report: --since 2026-12-02T00:00:00.000Z is not before --until 2026-12-01T00:00:00.000Z');
    expect((await report(['a.log', 'b.log'])).stderr).toContain('report: unexpected argument "b.log" (one FILE, or - for standard input)');
  });

  it('has its own --help', async () => {
    const { code, stdout } = await report(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: gitlab-fargate-driver report \[--since ISO\] \[--until ISO\] \[--json\] \[FILE\|-\]\n/);
  });
});
