import { readFile, writeFile } from 'node:fs/promises';
import { loadRunnerSettings, runJob, type JobResult } from '@gitlab-fargate/runner-harness';
import { fmt } from '../report/format.js';
import type { SuiteResult, Table, TargetCheck } from '../report/types.js';
import { max, median, percentile, sum } from '../measure/stats.js';
import type { SuiteContext } from './context.js';

/** Keeps the tail of a job log, to explain a failed job. */
class TailLog {
  text = '';
  write(chunk: string): void {
    this.text = (this.text + chunk).slice(-4000);
  }
}

/**
 * Many whole jobs at once through the harness against the emulator with AWS's throttling buckets on and its
 * default phases. API calls are counted at the counting proxy: first attempts are the driver's calls, later
 * attempts (the SDK's `amz-sdk-request` header) its retries.
 */
export async function concurrencySuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const run = await runConcurrentJobs(ctx);
  const figures = concurrencyFigures(run);
  return {
    id: 'concurrency',
    title: '5. Concurrency',
    tables: [summaryTable(run, figures), perOperationTable(run)],
    targets: concurrencyTargets(run, figures),
    figures,
    seconds: (performance.now() - started) / 1000,
  };
}

interface ConcurrentRun {
  readonly n: number;
  readonly outcomes: readonly { readonly result: JobResult; readonly log: string }[];
  readonly wallSeconds: number;
  readonly counts: ReturnType<SuiteContext['bench']['proxy']['counts']>;
  /** Seconds from the start to each task's RUNNING, at the emulator. */
  readonly runningAt: readonly number[];
}

async function runConcurrentJobs(ctx: SuiteContext): Promise<ConcurrentRun> {
  const { bench, settings } = ctx;
  const runner = await loadRunnerSettings(bench.stack.runnerConfigPath);
  // The local stack polls fast (0.5 s / 0.1 s) to keep demos snappy; API calls per job are a property of the driver
  // as shipped, so this suite runs with the driver's default intervals.
  const restoreConfig = await useDefaultPollIntervals(bench.stack.driverConfigPath);
  // Full buckets, AWS's figures: earlier suites must not have spent tokens this one needs.
  bench.stack.emulator.setThrottling({ enabled: true });
  bench.proxy.reset();
  const n = settings.concurrencyJobs;
  ctx.progress(`concurrency: ${n} jobs at once`);
  const since = Date.now();
  const wallStart = performance.now();
  const outcomes = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const log = new TailLog();
    const result: JobResult = await runJob({
      runner, env: bench.env, log, runnerLog: log,
      job: { name: `concurrent-${i}`, script: ['echo "job $CI_JOB_ID"'], afterScript: [], variables: {}, timeoutSeconds: 600 },
    });
    return { result, log: log.text };
  })).finally(restoreConfig);
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const runningAt = bench.timelines(since)
    .map((t) => t.at.RUNNING)
    .filter((v): v is number => v !== undefined)
    .map((v) => (v - since) / 1000);
  return { n, outcomes, wallSeconds, counts: bench.proxy.counts(), runningAt };
}

function prepareSeconds(run: ConcurrentRun): number[] {
  return run.outcomes.map((o) => sum(o.result.timings.filter((t) => t.phase === 'prepare').map((t) => t.seconds)));
}

function concurrencyFigures(run: ConcurrentRun): Record<string, number> {
  const prepare = prepareSeconds(run);
  return {
    jobs: run.n,
    succeeded: run.outcomes.filter((o) => o.result.outcome === 'success').length,
    prepareP50Seconds: median(prepare),
    prepareP95Seconds: percentile(prepare, 95),
    callsPerJob: run.counts.totalCalls / run.n,
    retries: run.counts.totalRetries,
    throttled: run.counts.totalThrottled,
    wallSeconds: run.wallSeconds,
  };
}

function summaryTable(run: ConcurrentRun, figures: Record<string, number>): Table {
  const { n, counts, runningAt } = run;
  const prepare = prepareSeconds(run);
  return {
    title: `Concurrency (${n} jobs started at once, AWS throttling buckets on, default emulator phases)`,
    columns: ['figure', 'value'],
    rows: [
      ['jobs succeeded', `${figures.succeeded} / ${n}`],
      ['jobs whose prepare was retried', run.outcomes.filter((o) => o.result.prepareAttempts > 1).length],
      ['prepare p50 s', fmt(median(prepare), 2)],
      ['prepare p95 s', fmt(percentile(prepare, 95), 2)],
      ['prepare max s', fmt(max(prepare), 2)],
      ['first / last task RUNNING after start s', `${fmt(Math.min(...runningAt), 1)} / ${fmt(max([...runningAt]), 1)}`],
      ['all jobs done s', fmt(run.wallSeconds, 1)],
      ['ECS API calls per job (first attempts)', fmt(figures.callsPerJob!, 1)],
      ['SDK retries (all jobs)', counts.totalRetries],
      ['throttled answers (all jobs)', counts.totalThrottled],
    ],
    notes: [
      'Driver poll intervals: its defaults (TaskPollInterval 2 s, SSHPollInterval 1 s), not the local stack\'s 0.5 s / 0.1 s.',
      'Docker creating the task containers on this machine is the bottleneck for the last tasks (the emulator, not the driver);',
      'prepare time includes that wait.',
    ],
  };
}

function perOperationTable({ n, counts }: ConcurrentRun): Table {
  const operations = [...new Set([...Object.keys(counts.calls), ...Object.keys(counts.retries), ...Object.keys(counts.throttled)])].sort();
  return {
    title: 'ECS API requests by operation (counted at a proxy in front of the emulator)',
    columns: ['operation', 'calls', 'per job', 'retries', 'throttled'],
    rows: operations.map((op) => {
      const calls = counts.calls[op] ?? 0;
      return [op, calls, fmt(calls / n, 1), counts.retries[op] ?? 0, counts.throttled[op] ?? 0];
    }),
  };
}

function concurrencyTargets(run: ConcurrentRun, figures: Record<string, number>): TargetCheck[] {
  const { n, counts } = run;
  const failed = run.outcomes.filter((o) => o.result.outcome !== 'success');
  const callsPerJob = figures.callsPerJob!;
  return [
    {
      name: `${n} concurrent jobs succeed`, target: 'all', measured: `${n - failed.length} / ${n}`, met: failed.length === 0,
      note: failed.slice(0, 3).map((f) => `${f.result.outcome}: ${f.result.reason ?? ''}`).join('; '),
    },
    {
      name: 'ECS API calls per job', target: '≤ 15 (retries excluded)', measured: fmt(callsPerJob, 1), met: callsPerJob <= 15,
      note: `DescribeTasks polls are ${fmt((counts.calls.DescribeTasks ?? 0) / n, 1)} per job: the pause after each grows ` +
        'with the time waited (TaskPollInterval first, then half the time so far, at most 5 s before the task has an ' +
        'address and 10 s after), so calls grow with the log of the start time (see "first / last task RUNNING")',
    },
  ];
}

/**
 * Removes the local stack's fast `TaskPollInterval`/`SSHPollInterval` from the driver TOML so the driver's defaults
 * apply; returns a function that puts the file back.
 */
async function useDefaultPollIntervals(path: string): Promise<() => Promise<void>> {
  const original = await readFile(path, 'utf8');
  const pattern = /^\s*(TaskPollInterval|SSHPollInterval)\s*=.*$/gm;
  const matches = original.match(pattern) ?? [];
  if (matches.length !== 2) {
    throw new Error(`concurrency: expected TaskPollInterval and SSHPollInterval in ${path} (the local stack's driver TOML), found ${matches.length}`);
  }
  await writeFile(path, original.replace(pattern, ''));
  return () => writeFile(path, original);
}
