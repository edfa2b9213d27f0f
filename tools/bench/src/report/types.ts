/** A table as printed and stored in the JSON result. */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** Lines printed under the table: what a figure means, how it was measured. */
  readonly notes?: readonly string[];
}

/** A target from the benchmark brief and whether this run met it. */
export interface TargetCheck {
  readonly name: string;
  /** The target, as a person reads it (`≤ 3× node -e 0`). */
  readonly target: string;
  /** The measured figure, formatted. */
  readonly measured: string;
  readonly met: boolean;
  /** Where missed: why, and what would close the gap. */
  readonly note?: string;
}

/** The identifiers of the benchmark suites, in the order they run. */
export const SUITE_IDS = ['startup', 'job-overhead', 'log-throughput', 'memory', 'concurrency', 'run-summary', 'job-image', 'warm-pool'] as const;
export type SuiteId = (typeof SUITE_IDS)[number];

/** What one suite produced. */
export interface SuiteResult {
  readonly id: SuiteId;
  readonly title: string;
  readonly tables: readonly Table[];
  readonly targets: readonly TargetCheck[];
  /** The headline numbers, for scripts and the smoke test (ms, MB/s, MiB, counts, ratios). */
  readonly figures: Readonly<Record<string, number>>;
  /** How long the suite took, s. */
  readonly seconds: number;
}
