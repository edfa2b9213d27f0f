import type { PricingSettings } from '@gitlab-fargate/config';
import { type CostEstimate, estimateCost } from '../cost/estimate.js';
import { FARGATE_PRICING_URL, INCLUDED_EPHEMERAL_GIB, MINIMUM_BILLED_SECONDS, SPOT_SHARE_OF_ON_DEMAND } from '../cost/prices.js';
import { type JobRecord, readJobRecord, timeOf } from './job-record.js';
import { type JobPhases, jobPhases, regionOfArn, taskUsage } from './phases.js';

/** The parts of a job's state the summary reads (all of it comes from the state file: no AWS call). */
export interface SummaryInput {
  /** When prepare started (ISO). */
  readonly createdAt: string;
  readonly taskArn?: string;
  /** The state's `metrics` (see `job-record.ts`); checked here. */
  readonly metrics?: unknown;
  /** Set for a warm start: the pool the task came from (the state's `pool`). */
  readonly pool?: { readonly name: string; readonly claimMs: number };
}

const MILESTONES: readonly (readonly [keyof JobRecord, string, keyof JobPhases | undefined, string])[] = [
  ['runTaskSentAt', 'RunTask sent', undefined, ''],
  ['runTaskReturnedAt', 'task accepted by ECS', 'launchTime', 'launch'],
  ['taskCreatedAt', 'task created (ECS)', undefined, ''],
  ['pullStartedAt', 'image pull started (ECS)', 'provisioningTime', 'provisioning'],
  ['pullStoppedAt', 'image pull finished (ECS)', 'imagePullTime', 'image pull'],
  ['taskStartedAt', 'container started (ECS)', 'containerStartTime', 'container start'],
  ['runningSeenAt', 'RUNNING seen by the driver', undefined, ''],
  ['claimedAt', 'idle pool task claimed', undefined, ''],
  ['readyAt', 'SSH ready: the job starts', 'readinessLag', 'readiness lag'],
];

/**
 * The job log's last lines: when each step of the task's start happened (ECS's timestamps and the driver's own),
 * and what the task has cost so far. Reads only the state file's record: the run stage stays free of the AWS SDK.
 */
export function jobSummary(input: SummaryInput, now: number, pricing: PricingSettings): string[] {
  const record = readJobRecord(input.metrics);
  const start = Date.parse(input.createdAt);
  const phases = jobPhases(record, start);
  const rows: [number, string, string][] = [[start, 'prepare started', '']];
  for (const [key, label, phase, phaseLabel] of MILESTONES) {
    const at = timeOf(record[key] as string | undefined);
    const took = phase === undefined ? undefined : phases[phase];
    if (at !== undefined) rows.push([at, label, took === undefined ? '' : `${phaseLabel} ${took.toFixed(1)} s`]);
  }
  const ready = timeOf(record.readyAt);
  rows.push([now, 'now (this stage)', ready === undefined ? '' : `script and stages ${((now - ready) / 1000).toFixed(1)} s so far`]);
  rows.sort((a, b) => a[0] - b[0]);
  const lines = ['Fargate task timeline (seconds after prepare started):'];
  for (const [at, label, note] of rows) {
    lines.push(`  ${((at - start) / 1000).toFixed(1).padStart(7)}  ${label.padEnd(28)}${note === '' ? '' : `  ${note}`}`.trimEnd());
  }
  if (phases.startLatency !== undefined) lines.push(`  start latency ${phases.startLatency.toFixed(1)} s (prepare started → SSH ready)`);
  if (input.pool !== undefined) lines.push(warmLine(input.pool, record));
  const usage = taskUsage(record, input.taskArn, now);
  lines.push(usage === undefined ? 'Fargate cost so far: unknown (the task\'s size was not recorded)' : costLine(estimateCost(usage, pricing), usage.cpuUnits, usage.memoryMiB, usage.ephemeralGiB, regionOfArn(input.taskArn)));
  return lines;
}

/** A warm start: its pool, and how long the task idled there (the pool's cost: this job's counts from the claim). */
function warmLine(pool: NonNullable<SummaryInput['pool']>, record: JobRecord): string {
  const line = `  warm start: an idle task of pool ${pool.name}, claimed in ${pool.claimMs} ms`;
  const ready = timeOf(record.poolReadyAt);
  const claimed = timeOf(record.claimedAt);
  if (ready === undefined || claimed === undefined) return line;
  return `${line}, after ${Math.max(0, (claimed - ready) / 1000).toFixed(1)} s idle (the pool's cost; this job's counts from the claim)`;
}

function costLine(cost: CostEstimate, cpuUnits: number, memoryMiB: number, ephemeralGiB: number, region: string | undefined): string {
  const size = `${trim(cpuUnits / 1024)} vCPU, ${trim(memoryMiB / 1024)} GB`;
  const minimum = cost.billedSeconds === MINIMUM_BILLED_SECONDS ? ' (the one-minute minimum)' : '';
  const storage =
    cost.extraStorageGbSeconds > 0
      ? `, ${Math.round(cost.extraStorageGbSeconds)} GB-s of storage beyond ${INCLUDED_EPHEMERAL_GIB} GiB (${ephemeralGiB} GiB)`
      : '';
  const kind = `${cost.capacity === 'FARGATE_SPOT' ? 'Fargate Spot' : 'on-demand'} ${cost.architecture === 'ARM64' ? 'ARM' : 'x86'}`;
  const where = region === undefined ? 'an unknown region' : region;
  const usage = `${cost.billedSeconds} s${minimum} × ${size}: ${trim(cost.vcpuSeconds)} vCPU-s, ${trim(cost.gbSeconds)} GB-s${storage}; ${kind} in ${where}`;
  return `Fargate cost so far: ${usage}; ${dollarsPart(cost, kind, where)}`;
}

/** The estimate in dollars with its sources, or, without a price, the `[Pricing]` keys that would give one. */
function dollarsPart(cost: CostEstimate, kind: string, where: string): string {
  if (cost.dollars === undefined) {
    return `no ${kind} price for ${where} in the driver's table: set ${(cost.missingKeys ?? []).join(', ')} in [Pricing] (driver TOML) for dollars`;
  }
  const spot = cost.spotEstimated
    ? `Spot taken as ${Math.round(SPOT_SHARE_OF_ON_DEMAND * 100)}% of on-demand (AWS: "up to a 70% discount", ${FARGATE_PRICING_URL}); ` +
      'the live Spot price varies by region and time, [Pricing] Spot keys set it; '
    : '';
  return `≈ $${cost.dollars.toFixed(cost.dollars < 0.01 ? 5 : 4)} (estimate; ${spot}prices: ${cost.source})`;
}

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, '');
}
