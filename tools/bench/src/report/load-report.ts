import { readFileSync } from 'node:fs';
import type { BenchReport } from '../bench.js';

/** A results file that cannot be reported on: the message names the file and what is wrong. */
export class ResultsFileError extends Error {}

/** Reads a results file an earlier run wrote (`--out`), checking the parts the report and the charts use. */
export function loadReport(path: string): BenchReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ResultsFileError(`${path}: cannot read it as JSON (${(error as Error).message}); give the file a run wrote with --out`);
  }
  const report = parsed as Partial<BenchReport> | null;
  const missing = ['date', 'mode', 'machine', 'load', 'suites', 'targets'].filter(
    (key) => report === null || typeof report !== 'object' || !(key in report),
  );
  if (missing.length > 0 || !Array.isArray(report?.suites) || !Array.isArray(report?.targets)) {
    throw new ResultsFileError(
      `${path}: not a gitlab-fargate-bench results file (missing ${missing.join(', ') || 'suites or targets as lists'}); ` +
        'give the file a run wrote with --out, e.g. tools/bench/results/latest.json',
    );
  }
  return parsed as BenchReport;
}
