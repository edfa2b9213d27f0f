import type { JobResult } from '@gitlab-fargate/runner-harness';
import type { DemoJob } from './jobs.js';

/** One finished demo job: what ran, what came out, and whether that is what the demo expects. */
export interface JobReport {
  readonly job: DemoJob;
  readonly result: JobResult;
}

/** Whether a job ended the way the demo expects (a failing job must fail, with its exact exit code). */
export function meetsExpectation(report: JobReport): boolean {
  const { expected } = report.job;
  if (expected.outcome === 'success') return report.result.outcome === 'success';
  return report.result.outcome === 'script_failure' && report.result.exitCode === expected.exitCode;
}

/** The exit code as gitlab-runner reports it: 0 for success, the script's code, or none for other failures. */
function exitCodeText(result: JobResult): string {
  if (result.outcome === 'success') return '0';
  return result.exitCode === undefined ? '-' : String(result.exitCode);
}

/** Seconds of the last prepare attempt (the one that counted), or `-` when prepare never ran. */
function prepareSeconds(result: JobResult): string {
  const prepare = result.timings.filter((t) => t.phase === 'prepare').at(-1);
  return prepare === undefined ? '-' : `${prepare.seconds.toFixed(1)} s`;
}

/** The summary table: job, outcome, exit code, prepare time, total time, and whether it is as expected. */
export function summaryTable(reports: readonly JobReport[]): string {
  const header = ['Job', 'Outcome', 'Exit code', 'Prepare', 'Total', 'As expected'];
  const rows = reports.map((r) => [
    r.job.spec.name,
    r.result.outcome,
    exitCodeText(r.result),
    prepareSeconds(r.result),
    `${r.result.seconds.toFixed(1)} s`,
    meetsExpectation(r) ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The one-line verdict under the table. */
export function summaryLine(reports: readonly JobReport[], totalSeconds: number): string {
  const failed = reports.filter((r) => !meetsExpectation(r));
  if (failed.length === 0) {
    const parts = reports.map((r) =>
      r.result.outcome === 'success' ? `${r.job.spec.name} succeeded` : `${r.job.spec.name} failed with exit code ${r.result.exitCode} as expected`,
    );
    return `Demo passed in ${totalSeconds.toFixed(1)} s: ${parts.join(', ')}; everything it started was removed.`;
  }
  const parts = failed.map((r) => {
    const expected = r.job.expected.outcome === 'success' ? 'success' : `script_failure with exit code ${r.job.expected.exitCode}`;
    const got = `${r.result.outcome}${r.result.exitCode !== undefined ? ` (exit code ${r.result.exitCode})` : ''}${r.result.reason ? `: ${r.result.reason}` : ''}`;
    return `${r.job.spec.name} expected ${expected}, got ${got}`;
  });
  return `Demo FAILED after ${totalSeconds.toFixed(1)} s: ${parts.join('; ')}.`;
}
