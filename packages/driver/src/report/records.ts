import { DIMENSION, JOB_METRICS_MESSAGE, METRIC } from '../metrics/names.js';

/** One job as `report` reads it from a metrics record of the driver's log. */
export interface JobLine {
  readonly time: number;
  readonly project: string;
  readonly environment: string;
  readonly outcome: string;
  readonly startLatency?: number;
  /** US dollars; absent when the driver had no price for the region. */
  readonly cost?: number;
  readonly vcpuSeconds?: number;
}

/** What reading a log gave: the jobs, and how many lines were something else (other records, text lines). */
export interface ReadResult {
  readonly jobs: JobLine[];
  readonly otherLines: number;
}

/** A job metrics record that is not what the driver writes: the input is not a driver log, or it was damaged. */
export class BadRecord extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem} (a "${JOB_METRICS_MESSAGE}" record, written by the driver's cleanup stage once per job)`);
    this.name = 'BadRecord';
  }
}

function optionalNumber(value: unknown, name: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new BadRecord(where, `${name} must be a number ≥ 0, found ${JSON.stringify(value)}`);
  return value;
}

function text(value: unknown, name: string, where: string): string {
  if (typeof value !== 'string') throw new BadRecord(where, `${name} must be a string, found ${JSON.stringify(value)}`);
  return value;
}

/** Reads one job from a parsed record. */
function jobOf(record: Record<string, unknown>, where: string): JobLine {
  const time = Date.parse(text(record.time, 'time', where));
  if (Number.isNaN(time)) throw new BadRecord(where, `time must be an ISO 8601 time, found ${JSON.stringify(record.time)}`);
  const startLatency = optionalNumber(record[METRIC.startLatency], METRIC.startLatency, where);
  const cost = optionalNumber(record[METRIC.cost], METRIC.cost, where);
  const vcpuSeconds = optionalNumber(record[METRIC.vcpuSeconds], METRIC.vcpuSeconds, where);
  return {
    time,
    project: text(record.project, 'project', where) || '(no project)',
    environment: text(record[DIMENSION.environment], DIMENSION.environment, where),
    outcome: text(record[DIMENSION.outcome], DIMENSION.outcome, where),
    ...(startLatency !== undefined ? { startLatency } : {}),
    ...(cost !== undefined ? { cost } : {}),
    ...(vcpuSeconds !== undefined ? { vcpuSeconds } : {}),
  };
}

/**
 * The jobs in a driver log (any `LogFormat`: the metrics record is always one JSON line). Other lines are counted
 * and skipped; a metrics record that is not well-formed is an error naming its line.
 *
 * @throws BadRecord naming `source:line` and what is wrong
 */
export function readJobLines(content: string, source: string): ReadResult {
  const jobs: JobLine[] = [];
  let otherLines = 0;
  const lines = content.split('\n');
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    let value: unknown;
    try {
      value = trimmed.startsWith('{') ? JSON.parse(trimmed) : undefined;
    } catch {
      value = undefined;
    }
    const record = value as Record<string, unknown> | undefined;
    if (typeof record !== 'object' || record === null || record.msg !== JOB_METRICS_MESSAGE) {
      otherLines++;
      return;
    }
    jobs.push(jobOf(record, `${source}:${index + 1}`));
  });
  return { jobs, otherLines };
}
