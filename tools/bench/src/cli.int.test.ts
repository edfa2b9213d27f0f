import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from './bench.js';
import { SUITE_IDS } from './report/types.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gitlab-fargate-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * CI's smoke run: the real CLI, every suite, tiny counts. It checks that every table comes out with sane numbers,
 * never how fast anything is (the machine may be busy).
 */
describe('gitlab-fargate-bench --smoke', () => {
  it('produces every suite\'s tables, targets and finite figures, as JSON and Markdown', () => {
    const out = join(dir, 'smoke.json');
    const markdown = join(dir, 'smoke.md');
    const run = spawnSync(process.execPath, [cli, '--smoke', '--out', out, '--markdown', markdown], {
      encoding: 'utf8', timeout: 540_000, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(report.mode).toBe('smoke');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.load.samples).toBeGreaterThan(1);
    expect(report.suites.map((s) => s.id)).toEqual([...SUITE_IDS]);
    for (const suite of report.suites) {
      expect(suite.tables.length, suite.id).toBeGreaterThan(0);
      for (const table of suite.tables) {
        expect(table.rows.length, `${suite.id}: ${table.title}`).toBeGreaterThan(0);
        for (const row of table.rows) expect(row).toHaveLength(table.columns.length);
      }
      for (const [name, value] of Object.entries(suite.figures)) {
        expect(Number.isFinite(value) && value >= 0, `${suite.id}.${name} = ${value}`).toBe(true);
      }
    }
    const figures = Object.fromEntries(report.suites.map((s) => [s.id, s.figures]));
    // Sane, not fast: a process takes time, a job makes calls, the memory figure is a real process's.
    expect(figures.startup!.configMs).toBeGreaterThan(0);
    expect(figures.startup!.runRssMiB).toBeGreaterThan(figures.startup!.nodeRssMiB! * 0.9);
    expect(figures['job-overhead']!.readinessLagMs).toBeGreaterThan(0);
    expect(figures['log-throughput']!.driverMBps).toBeGreaterThan(0);
    expect(figures.memory!.fastReaderRssMiB).toBeGreaterThan(10);
    expect(figures.concurrency!.succeeded).toBe(figures.concurrency!.jobs);
    expect(figures.concurrency!.callsPerJob).toBeGreaterThanOrEqual(3);
    expect(figures['run-summary']!.summaryMs).toBeGreaterThan(0);
    expect(figures['job-image']!.imageFirstByteMs).toBeGreaterThan(0);
    expect(figures['job-image']!.prepareRatio).toBeGreaterThan(0);
    expect(figures['warm-pool']!.warmOverCold).toBeGreaterThan(0);
    expect(figures['warm-pool']!.warmOverNode).toBeGreaterThan(0);
    expect(report.targets.length).toBeGreaterThanOrEqual(8);
    const text = readFileSync(markdown, 'utf8');
    expect(text).toContain('## Targets');
    expect(run.stdout).toContain('| custom config');
  }, 600_000);

  it('refuses an unknown suite before starting anything', () => {
    const run = spawnSync(process.execPath, [cli, '--only', 'nope'], { encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('unknown suite "nope"');
  });

  it('reports on an earlier run with --from, drawing its charts, without starting anything', () => {
    const latest = fileURLToPath(new URL('../results/latest.json', import.meta.url));
    const charts = join(dir, 'charts');
    const run = spawnSync(process.execPath, [cli, '--from', latest, '--charts', charts, '--markdown', join(dir, 'from.md')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('## Targets');
    for (const name of ['targets.svg', 'startup.svg']) expect(readFileSync(join(charts, name), 'utf8')).toMatch(/^<svg xmlns=/);
  });

  it('refuses a results file it cannot use, naming it', () => {
    const damaged = join(dir, 'damaged.json');
    writeFileSync(damaged, '{"date": "2026-12-03"}');
    const run = spawnSync(process.execPath, [cli, '--from', damaged], { encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`${damaged}: not a gitlab-fargate-bench results file (missing mode, machine, load, suites, targets)`);
  });

  it('prints its usage with --help', () => {
    const run = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: gitlab-fargate-bench');
  });
});
