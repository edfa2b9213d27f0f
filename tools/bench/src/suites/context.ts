import type { BenchStack } from '../stack/bench-stack.js';

/** How much each suite does. */
export interface BenchSettings {
  /** Runs of each process in the start-up suite (the median is reported). */
  readonly startupRuns: number;
  /** Runs with the peak-RSS reporter loaded (kept apart from the timing runs). */
  readonly rssRuns: number;
  /** Sequential jobs in the job-overhead and readiness-lag suite. */
  readonly overheadJobs: number;
  /** MiB of output per throughput round, and rounds per client. */
  readonly throughputMiB: number;
  readonly throughputRounds: number;
  /** MiB the memory suite streams through `custom run`. */
  readonly memoryMiB: number;
  /** Read rate of the slow consumer in the memory suite, MiB/s. */
  readonly slowReaderMiBps: number;
  /** Jobs started at once in the concurrency suite. */
  readonly concurrencyJobs: number;
  /** Fresh processes measuring the job log's timeline and cost line (the median is reported). */
  readonly summaryRuns: number;
  /** Warm prepares (from a keeper-filled pool), each followed by a cold one (the medians are reported). */
  readonly warmPrepares: number;
}

/** The figures the brief asks for. */
export const FULL_SETTINGS: BenchSettings = {
  startupRuns: 21,
  rssRuns: 5,
  overheadJobs: 5,
  throughputMiB: 64,
  throughputRounds: 3,
  memoryMiB: 50,
  slowReaderMiBps: 10,
  concurrencyJobs: 50,
  summaryRuns: 21,
  warmPrepares: 9,
};

/** Tiny counts: proves every suite still runs and produces its tables (CI), not a measurement. */
export const SMOKE_SETTINGS: BenchSettings = {
  startupRuns: 3,
  rssRuns: 1,
  overheadJobs: 1,
  throughputMiB: 2,
  throughputRounds: 1,
  memoryMiB: 2,
  slowReaderMiBps: 4,
  concurrencyJobs: 3,
  summaryRuns: 3,
  warmPrepares: 1,
};

/** What every suite gets. */
export interface SuiteContext {
  readonly settings: BenchSettings;
  readonly bench: BenchStack;
  /** A progress line for the person watching (stderr). */
  progress(message: string): void;
}
