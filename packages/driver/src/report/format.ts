import type { GroupSummary } from './summarize.js';

/** What the report covers. */
export interface ReportPeriod {
  readonly since?: Date;
  readonly until?: Date;
}

/** The report as JSON (one object, stable keys), for scripts and dashboards. */
export function reportJson(groups: readonly GroupSummary[], period: ReportPeriod, otherLines: number): string {
  return `${JSON.stringify(
    {
      since: period.since?.toISOString() ?? null,
      until: period.until?.toISOString() ?? null,
      groups: groups.map((g) => ({ ...g, costUsd: Math.round(g.costUsd * 1e6) / 1e6 })),
      skippedLines: otherLines,
    },
    null,
    2,
  )}\n`;
}

const HEADERS = ['PROJECT', 'ENVIRONMENT', 'JOBS', 'FAILED', 'COST (USD)', 'START p50', 'START p95'] as const;

/**
 * Control and format characters (newlines, ESC, bidirectional overrides, line separators), each shown as `?`.
 * Project and environment names come from log records a job may have shaped; written raw, they could add rows or
 * send terminal escape sequences.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** A table cell as it may be printed: {@link UNPRINTABLE} characters replaced. */
function printableCell(text: string): string {
  return text.replace(UNPRINTABLE, '?');
}

function row(g: GroupSummary): string[] {
  const cost = `${g.costUsd.toFixed(4)}${g.unpricedJobs > 0 ? ` (+${g.unpricedJobs} unpriced)` : ''}`;
  const latency = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(1)} s`);
  const names = [printableCell(g.project), printableCell(g.environment)];
  return [...names, String(g.jobs), String(g.failed), cost, latency(g.startLatency?.p50), latency(g.startLatency?.p95)];
}

/** The report as a table for a person, with what it covers and what it skipped. */
export function reportTable(groups: readonly GroupSummary[], period: ReportPeriod, otherLines: number): string {
  const from = period.since?.toISOString() ?? 'the first record';
  const to = period.until?.toISOString() ?? 'the last record';
  const head = `Jobs from ${from} to ${to}: cost is the driver's estimate (see its price table and [Pricing]).`;
  if (groups.length === 0) return `${head}\nNo jobs in this period.\n`;
  const rows = [[...HEADERS], ...groups.map(row)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const numeric = (i: number) => i >= 2;
  const lines = rows.map((r) => r.map((cell, i) => (numeric(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join('  ').trimEnd());
  const total = groups.reduce((sum, g) => sum + g.costUsd, 0);
  const jobs = groups.reduce((sum, g) => sum + g.jobs, 0);
  const skipped = otherLines > 0 ? ` (${otherLines} other log line${otherLines === 1 ? '' : 's'} skipped)` : '';
  return `${head}\n${lines.join('\n')}\nTotal: ${jobs} job${jobs === 1 ? '' : 's'}, $${total.toFixed(4)}${skipped}\n`;
}
