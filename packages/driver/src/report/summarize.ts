import type { JobLine } from './records.js';

/** Start latency percentiles of a group, seconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  /** Jobs whose start latency is known (failed starts have none). */
  readonly samples: number;
}

/** One project in one environment over the period. */
export interface GroupSummary {
  readonly project: string;
  readonly environment: string;
  readonly jobs: number;
  /** Jobs whose outcome was not success. */
  readonly failed: number;
  /** Estimated US dollars of the jobs with a price. */
  readonly costUsd: number;
  /** Jobs that ran a task but had no price (a region missing from the table and `[Pricing]`): not in `costUsd`. */
  readonly unpricedJobs: number;
  readonly vcpuSeconds: number;
  readonly startLatency?: LatencySummary;
}

/** The nearest-rank percentile of sorted values (no interpolation: every answer is a real job's latency). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** Groups jobs by project and environment, sorted by project then environment. */
export function summarize(jobs: readonly JobLine[]): GroupSummary[] {
  const groups = new Map<string, JobLine[]>();
  for (const job of jobs) {
    const key = JSON.stringify([job.project, job.environment]);
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  return [...groups.values()]
    .map((group): GroupSummary => {
      const latencies = group.flatMap((j) => (j.startLatency === undefined ? [] : [j.startLatency])).sort((a, b) => a - b);
      const first = group[0] as JobLine;
      return {
        project: first.project,
        environment: first.environment,
        jobs: group.length,
        failed: group.filter((j) => j.outcome !== 'success').length,
        costUsd: group.reduce((sum, j) => sum + (j.cost ?? 0), 0),
        unpricedJobs: group.filter((j) => j.cost === undefined && j.vcpuSeconds !== undefined).length,
        vcpuSeconds: group.reduce((sum, j) => sum + (j.vcpuSeconds ?? 0), 0),
        ...(latencies.length > 0
          ? { startLatency: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), samples: latencies.length } }
          : {}),
      };
    })
    .sort((a, b) => a.project.localeCompare(b.project) || a.environment.localeCompare(b.environment));
}
