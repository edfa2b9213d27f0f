import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { JOB_METRICS_MESSAGE } from '../metrics/names.js';
import { type ReportPeriod, reportJson, reportTable } from './format.js';
import { BadRecord, readJobLines } from './records.js';
import { summarize } from './summarize.js';

/** `report`'s arguments. */
export interface ReportOptions {
  /** Keep jobs at or after this time. */
  readonly since?: Date;
  /** Keep jobs before this time. */
  readonly until?: Date;
  readonly json: boolean;
  /** A log file; `-` or absent: standard input. */
  readonly file?: string;
}

/** Where `report` reads and writes. */
export interface ReportIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly cwd: string;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `gitlab-fargate-driver report`: cost and start latency (p50/p95) of the jobs in a driver log, by project and
 * environment, for a period. Exit code 0, or 1 with a message saying what is wrong with the input.
 */
export async function reportCommand(options: ReportOptions, io: ReportIo): Promise<number> {
  const fromStdin = options.file === undefined || options.file === '-';
  const source = fromStdin ? 'stdin' : (options.file as string);
  let content: string;
  try {
    content = fromStdin ? await readAll(io.stdin) : readFileSync(resolve(io.cwd, options.file as string), 'utf8');
  } catch (error) {
    io.stderr.write(`gitlab-fargate-driver report: cannot read ${source}: ${(error as Error).message}\n`);
    return 1;
  }
  let read: ReturnType<typeof readJobLines>;
  try {
    read = readJobLines(content, source);
  } catch (error) {
    if (!(error instanceof BadRecord)) throw error;
    io.stderr.write(`gitlab-fargate-driver report: ${error.message}\n`);
    return 1;
  }
  if (read.jobs.length === 0) {
    io.stderr.write(
      `gitlab-fargate-driver report: ${source} has no "${JOB_METRICS_MESSAGE}" records (${read.otherLines} other lines): ` +
        "give the driver's log (its LogFile, or the runner manager's log), where cleanup writes one such JSON line per job\n",
    );
    return 1;
  }
  const period: ReportPeriod = { ...(options.since ? { since: options.since } : {}), ...(options.until ? { until: options.until } : {}) };
  const afterSince = (time: number): boolean => options.since === undefined || time >= options.since.getTime();
  const beforeUntil = (time: number): boolean => options.until === undefined || time < options.until.getTime();
  const inPeriod = read.jobs.filter((job) => afterSince(job.time) && beforeUntil(job.time));
  const groups = summarize(inPeriod);
  io.stdout.write(options.json ? reportJson(groups, period, read.otherLines) : reportTable(groups, period, read.otherLines));
  return 0;
}
