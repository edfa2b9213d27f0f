import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fmt, ratio } from '../report/format.js';
import type { SuiteResult, Table, TargetCheck } from '../report/types.js';
import { max, median, percentile } from '../measure/stats.js';
import { expectSuccess, runTimed, type TimedProcessResult } from '../measure/timed-process.js';
import { DriverJob, opensshArgs } from '../stack/driver-job.js';
import type { SuiteContext } from './context.js';

interface Sample {
  readonly ms: number[];
  /** Spawn to the first stdout byte: for `run` and `ssh`, when the remote script's output arrives. */
  readonly firstByteMs: number[];
  readonly rss: number[];
}

/**
 * Start-up cost of the driver's short-lived stages, against `node -e 0` measured in the same loop (runs are
 * interleaved, so load on the shared machine hits every process alike). `run` and `cleanup` do their real work:
 * `run` connects over SSH to a live task and runs `echo`, `cleanup` calls StopTask (on a task already stopped, so
 * every run costs the same). OpenSSH running the same `echo` is the reference for `run`'s SSH part.
 */
export async function startupSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const samples = await measureStartup(ctx);
  const rows = startupRows(samples);
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  return {
    id: 'startup',
    title: '1. Start-up: wall time and peak memory per process',
    tables: [startupTable(samples, rows)],
    targets: startupTargets(byName),
    figures: startupFigures(byName),
    seconds: (performance.now() - started) / 1000,
  };
}

type Samples = Record<string, Sample>;

interface Row {
  readonly name: string;
  readonly median: number;
  readonly p95: number;
  readonly firstByte: number;
  /** The median over its `node -e 0` baseline. */
  readonly times: number;
  readonly rss: number;
  /** The peak RSS over `node -e 0`'s. */
  readonly rssTimes: number;
}

/** Interleaved rounds on one live task, then on a stopped one for cleanup; the last rounds measure peak RSS. */
async function measureStartup(ctx: SuiteContext): Promise<Samples> {
  const job = new DriverJob(ctx.bench);
  const samples: Samples = {};
  const add = (name: string, result: TimedProcessResult, what: string) => {
    expectSuccess(what, result);
    const sample = (samples[name] ??= { ms: [], firstByteMs: [], rss: [] });
    if (result.maxRssMiB !== undefined) {
      sample.rss.push(result.maxRssMiB);
    } else {
      sample.ms.push(result.ms);
      sample.firstByteMs.push(result.firstByteMs);
    }
  };
  try {
    ctx.progress('startup: preparing one task');
    await job.prepare();
    const restoreState = job.saveState();
    await runRounds(ctx, job, add);
    ctx.progress('startup: stopping the task, then interleaved rounds of node -e 0 and custom cleanup');
    await job.cleanup();
    const total = ctx.settings.startupRuns + ctx.settings.rssRuns;
    for (let i = 0; i < total; i += 1) {
      const measureRss = i >= ctx.settings.startupRuns;
      restoreState();
      add('node -e 0 (cleanup rounds)', await node(measureRss), 'node -e 0');
      add('custom cleanup (StopTask)', await job.driver(['cleanup'], { measureRss }), 'custom cleanup');
    }
  } finally {
    await job.driver(['cleanup']).catch(() => undefined);
    job.dispose();
  }
  return samples;
}

type Add = (name: string, result: TimedProcessResult, what: string) => void;

function node(measureRss: boolean): Promise<TimedProcessResult> {
  return runTimed(process.execPath, ['-e', '0'], { measureRss });
}

/** `node -e 0`, `custom config`, `custom run` (through the multiplexer and on its own connection) and OpenSSH. */
async function runRounds(ctx: SuiteContext, job: DriverJob, add: Add): Promise<void> {
  const script = job.script('tiny', 'echo "tiny script"');
  const target = job.target();
  const scriptText = readFileSync(script);
  const ssh = () => runTimed('/usr/bin/ssh', opensshArgs(target, 'bash -s'), { stdin: Readable.from([scriptText]), measureRss: false });
  const total = ctx.settings.startupRuns + ctx.settings.rssRuns;
  ctx.progress(`startup: ${total} interleaved rounds of node -e 0, custom config, custom run, ssh`);
  for (let i = 0; i < total; i += 1) {
    const measureRss = i >= ctx.settings.startupRuns;
    add('node -e 0', await node(measureRss), 'node -e 0');
    add('custom config', await job.driver(['config'], { measureRss }), 'custom config');
    add('custom run (echo)', await job.run(script, 'build_script', { measureRss }), 'custom run');
    add('custom run, own SSH connection', await job.withoutMultiplexer(() => job.run(script, 'build_script', { measureRss })), 'custom run');
    if (!measureRss) add('ssh (OpenSSH, same script)', await ssh(), 'ssh');
  }
}

function startupRows(samples: Samples): Row[] {
  const baseline = median(samples['node -e 0']!.ms);
  const baselineCleanup = median(samples['node -e 0 (cleanup rounds)']!.ms);
  const baselineRss = max(samples['node -e 0']!.rss);
  const row = (name: string, base: number): Row => {
    const s = samples[name]!;
    const m = median(s.ms);
    const rss = max(s.rss);
    const firstByte = median(s.firstByteMs);
    return { name, median: m, p95: percentile(s.ms, 95), firstByte, times: m / base, rss, rssTimes: rss / baselineRss };
  };
  return [
    row('node -e 0', baseline),
    row('custom config', baseline),
    row('custom run (echo)', baseline),
    row('custom run, own SSH connection', baseline),
    row('ssh (OpenSSH, same script)', baseline),
    row('node -e 0 (cleanup rounds)', baselineCleanup),
    row('custom cleanup (StopTask)', baselineCleanup),
  ];
}

function startupTargets(byName: Record<string, Row>): TargetCheck[] {
  const config = byName['custom config']!;
  const run = byName['custom run (echo)']!;
  const ownConnection = byName['custom run, own SSH connection']!;
  const ssh = byName['ssh (OpenSSH, same script)']!;
  return [
    {
      name: 'custom config start-up', target: '≤ 3× node -e 0', measured: ratio(config.times), met: config.times <= 3,
      note: 'config loads the TOML parser and validation (the split bundle leaves the AWS SDK and ssh2 out of it)',
    },
    {
      name: 'custom run start-up', target: '≤ 3× node -e 0', measured: ratio(run.times), met: run.times <= 3,
      note: `run goes through the job's SSH multiplexer (one channel on the connection prepare opened, a remote bash); ` +
        `on its own SSH connection, as with [SSH] Multiplex = false, it takes ${fmt(ownConnection.median)} ms (${ratio(ownConnection.times)}), ` +
        `where OpenSSH alone takes ${fmt(ssh.median)} ms (${ratio(ssh.times)}) for the same connection and script`,
    },
  ];
}

function startupTable(samples: Samples, rows: readonly Row[]): Table {
  return {
    title: `Start-up (median of ${samples['node -e 0']!.ms.length} interleaved runs; peak RSS = max of ${samples['node -e 0']!.rss.length} runs)`,
    columns: ['process', 'median ms', 'p95 ms', 'first output ms', '× node -e 0', 'peak RSS MiB', 'RSS × node'],
    rows: rows.map((r) => [
      r.name, fmt(r.median), fmt(r.p95), Number.isFinite(r.firstByte) ? fmt(r.firstByte) : '–', ratio(r.times), fmt(r.rss, 1),
      r.name.startsWith('ssh') ? 'n/a (not Node)' : ratio(r.rssTimes),
    ]),
    notes: [
      'Every process is a fresh spawn from the benchmark; `custom run` runs `echo` in bash in a RUNNING task, through the job\'s SSH multiplexer',
      '(the connection prepare opened) or, in the "own SSH connection" row, on a connection of its own (state without a multiplexer);',
      '`custom cleanup` reads a state file and calls StopTask (the task is already stopped, so each run costs the same).',
      'Peak RSS is `process.resourceUsage().maxRSS` at exit, reported by a module loaded with `--import`; OpenSSH is not measured for memory.',
    ],
  };
}

function startupFigures(byName: Record<string, Row>): Record<string, number> {
  const [nodeRow, config, run, ssh, cleanup] = ['node -e 0', 'custom config', 'custom run (echo)', 'ssh (OpenSSH, same script)', 'custom cleanup (StopTask)']
    .map((name) => byName[name]!);
  return {
    nodeMs: nodeRow!.median,
    configMs: config!.median,
    runMs: run!.median,
    sshMs: ssh!.median,
    runFirstByteMs: run!.firstByte,
    sshFirstByteMs: ssh!.firstByte,
    cleanupMs: cleanup!.median,
    configRatio: config!.times,
    runRatio: run!.times,
    cleanupRatio: cleanup!.times,
    nodeRssMiB: nodeRow!.rss,
    configRssMiB: config!.rss,
    runRssMiB: run!.rss,
    cleanupRssMiB: cleanup!.rss,
  };
}
