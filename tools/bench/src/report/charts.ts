import type { BenchReport } from '../bench.js';
import { renderBarChart, type Bar } from './svg.js';
import type { Table, TargetCheck } from './types.js';

/** One chart file of a benchmark run. */
export interface ChartFile {
  /** File name, e.g. `targets.svg`. */
  readonly name: string;
  /** What it shows, for the image's alternative text. */
  readonly title: string;
  readonly svg: string;
}

/**
 * The charts docs/benchmarks.md embeds, drawn from a run's results (the JSON file the run wrote, or the run itself):
 * how much of each target's budget the run used, and what each driver process costs to start next to `node -e 0`.
 */
export function renderCharts(report: BenchReport): ChartFile[] {
  const charts: ChartFile[] = [];
  const targets = targetBars(report.targets);
  if (targets.length > 0) {
    const title = 'Targets: share of each budget used';
    const subtitle = `${report.date.slice(0, 10)}, ${report.mode} run; under 100% = target met (for "≥" targets: target ÷ measured)`;
    charts.push({ name: 'targets.svg', title, svg: renderBarChart({ title, subtitle, bars: targets, reference: { value: 100, label: 'target' } }) });
  }
  const startup = startupBars(report);
  if (startup !== undefined) {
    const title = 'Start-up of each driver process (median ms)';
    const subtitle = `${report.date.slice(0, 10)}; the dashed line is node -e 0 on the same machine, in the same run`;
    charts.push({ name: 'startup.svg', title, svg: renderBarChart({ title, subtitle, ...startup }) });
  }
  return charts;
}

/** The first number in a figure as the report prints it (`1.47×`, `< 1.5 s`, `≤ 15 (retries excluded)`). */
function firstNumber(text: string): number | undefined {
  const match = /-?\d+(?:\.\d+)?/.exec(text.replace(/,/g, ''));
  return match === null ? undefined : Number(match[0]);
}

/** Targets whose budget and measurement are numbers, as the share of the budget used (%). */
export function targetBars(targets: readonly TargetCheck[]): Bar[] {
  return targets.flatMap((target) => {
    const limit = firstNumber(target.target);
    const measured = firstNumber(target.measured);
    if (limit === undefined || measured === undefined || limit <= 0 || measured <= 0) return [];
    const higherIsBetter = target.target.trim().startsWith('≥');
    const share = Math.round((higherIsBetter ? limit / measured : measured / limit) * 1000) / 10;
    return [{ label: target.name, value: share, text: `${target.measured} (${target.target})`, missed: !target.met }];
  });
}

function startupBars(report: BenchReport): { bars: Bar[]; reference?: { value: number; label: string } } | undefined {
  const table = report.suites.find((suite) => suite.id === 'startup')?.tables[0];
  const column = table?.columns.indexOf('median ms') ?? -1;
  if (table === undefined || column < 0) return undefined;
  const bars = rowsWithNumber(table, column).filter((bar) => !bar.label.startsWith('node -e 0'));
  const baseline = rowsWithNumber(table, column).find((bar) => bar.label.startsWith('node -e 0'));
  return { bars, ...(baseline === undefined ? {} : { reference: { value: baseline.value, label: `node -e 0: ${baseline.value} ms` } }) };
}

function rowsWithNumber(table: Table, column: number): Bar[] {
  return table.rows.flatMap((row) => {
    const value = firstNumber(String(row[column] ?? ''));
    return value === undefined ? [] : [{ label: String(row[0]), value, text: `${value} ms` }];
  });
}
