import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fmt } from '../report/format.js';
import type { SuiteResult, TargetCheck } from '../report/types.js';
import type { SuiteContext } from './context.js';

/** The driver's own measurement of the job log's timeline and cost line (one home for how it is measured). */
const driverPackage = fileURLToPath(new URL('../../../../packages/driver/', import.meta.url));
const SCRIPT = 'scripts/summary-cost.mjs';
/** What the issue allows the stage that prints the summary to spend on it. */
const LIMIT_MS = 10;

/** Medians (ms) the script prints with `--json`. */
interface SummaryCost {
  readonly node: string;
  readonly runs: number;
  /** Wall time: modules every run stage loads to record its outcome; the summary's modules, state read and lines. */
  readonly load: number;
  readonly summary: number;
  /** Wall time build_script adds to record its outcome. */
  readonly record: number;
  /** CPU time of `load` and `summary` (less sensitive to a busy machine than wall time). */
  readonly loadCpu: number;
  readonly summaryCpu: number;
}

function parse(stdout: string): SummaryCost {
  const value = JSON.parse(stdout) as Partial<SummaryCost>;
  for (const key of ['load', 'summary', 'record', 'loadCpu', 'summaryCpu'] as const) {
    if (typeof value[key] !== 'number') throw new Error(`run-summary: ${SCRIPT} --json gave no "${key}": ${stdout}`);
  }
  return value as SummaryCost;
}

/**
 * What the job log's last lines (the task timeline and the cost line) add to the run stage that prints them,
 * `cleanup_file_variables`, and what recording a stage's outcome adds to `build_script`: fresh Node processes with
 * the compiled driver (`packages/driver/dist`), as gitlab-runner starts one per stage; medians.
 */
export async function runSummarySuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const runs = ctx.settings.summaryRuns;
  ctx.progress(`run-summary: ${runs} fresh processes (node ${SCRIPT} ${runs} --json)`);
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, String(runs), '--json'], { cwd: driverPackage });
  const cost = parse(stdout);
  const total = cost.load + cost.summary;
  const totalCpu = cost.loadCpu + cost.summaryCpu;
  const targets: TargetCheck[] = [{
    name: 'timeline and cost line in the stage that prints them', target: `≤ ${LIMIT_MS} ms`, measured: `${fmt(total, 1)} ms`,
    met: total <= LIMIT_MS,
    note: `wall time on a busy machine; the same work took ${fmt(totalCpu, 1)} ms of CPU time`,
  }];
  return {
    id: 'run-summary',
    title: '7. The job log\'s timeline and cost line',
    tables: [{
      title: `What the summary adds to a run stage (median of ${cost.runs} fresh processes, ${cost.node})`,
      columns: ['stage', 'what', 'wall ms', 'CPU ms'],
      rows: [
        ['every run stage', 'modules that record the stage\'s outcome', fmt(cost.load, 2), fmt(cost.loadCpu, 2)],
        ['cleanup_file_variables', '+ cost modules, state read, timeline and cost line', fmt(cost.summary, 2), fmt(cost.summaryCpu, 2)],
        ['cleanup_file_variables', 'in all', fmt(total, 2), fmt(totalCpu, 2)],
        ['build_script', '+ recording its outcome (state read, atomic write)', fmt(cost.record, 2), '–'],
      ],
      notes: [
        `Measured by packages/driver/${SCRIPT} on the compiled driver: only what the stage did not already load and do.`,
        'CPU time (user + system) is shown beside wall time because other processes on a shared machine stretch wall time.',
      ],
    }],
    targets,
    figures: { loadMs: cost.load, summaryMs: cost.summary, totalMs: total, totalCpuMs: totalCpu, recordMs: cost.record },
    seconds: (performance.now() - started) / 1000,
  };
}
