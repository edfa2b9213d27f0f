import type { CostEstimate } from '../cost/estimate.js';
import { DIMENSION, JOB_METRICS_MESSAGE, METRIC, METRICS_NAMESPACE } from './names.js';
import type { JobOutcome } from './outcome.js';
import type { JobPhases } from './phases.js';

/** Everything one job's metrics document says. */
export interface JobMetricsInput {
  /** When the job's cleanup ran (ms): the metrics' timestamp. */
  readonly timestamp: number;
  /** The runner environment (dev, staging, production): the `gitlab-fargate:environment` task tag, else the cluster. */
  readonly environment: string;
  /** The runner's short token. */
  readonly runner: string;
  readonly project: string;
  readonly jobId: string;
  readonly taskArn?: string;
  readonly outcome: JobOutcome;
  readonly phases: JobPhases;
  /** Absent when the task's size was never known (prepare failed before RunTask answered). */
  readonly cost?: CostEstimate;
  readonly region?: string;
  /** Whether the job's task came from the warm pool. @default 'cold' */
  readonly start?: 'warm' | 'cold';
}

/** Prepare failed on the platform's side: a cancelled start or a refused override is not the platform failing. */
function isStartFailure(outcome: JobOutcome): boolean {
  return outcome.stage === 'prepare' && outcome.reason !== 'cancelled' && outcome.reason !== 'override_refused';
}

/** CloudWatch's dimension values must be non-empty ASCII. */
function dimensionValue(value: string): string {
  const ascii = value.replace(/[^\x20-\x7e]/g, '_').trim().slice(0, 1024);
  return ascii === '' ? 'unknown' : ascii;
}

const PHASE_METRICS: readonly (readonly [keyof JobPhases, string])[] = [
  ['startLatency', METRIC.startLatency],
  ['launchTime', METRIC.launchTime],
  ['provisioningTime', METRIC.provisioningTime],
  ['imagePullTime', METRIC.imagePullTime],
  ['containerStartTime', METRIC.containerStartTime],
  ['readinessLag', METRIC.readinessLag],
];

/**
 * One job's CloudWatch embedded metric format document
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
 * which is also a record of the driver's JSON log (`time`, `level`, `msg`) that `report` reads. Metrics by
 * environment and runner, and by environment alone; job counts by environment, outcome and reason. A part that is
 * not known (a failed start has no readiness) is left out, metric and member both, as the specification requires.
 */
export function jobMetricsDocument(input: JobMetricsInput): Record<string, unknown> {
  const values: Record<string, number> = {
    [METRIC.jobs]: 1,
    [METRIC.startFailure]: isStartFailure(input.outcome) ? 1 : 0,
    [METRIC.jobFailure]: input.outcome.kind === 'success' ? 0 : 1,
  };
  for (const [phase, name] of PHASE_METRICS) {
    const seconds = input.phases[phase];
    if (seconds !== undefined) values[name] = Math.round(seconds * 1000) / 1000;
  }
  if (input.cost !== undefined) {
    values[METRIC.vcpuSeconds] = input.cost.vcpuSeconds;
    values[METRIC.gbSeconds] = input.cost.gbSeconds;
    if (input.cost.dollars !== undefined) values[METRIC.cost] = Math.round(input.cost.dollars * 1e6) / 1e6;
  }
  const unit = (name: string): string => (name === METRIC.jobs || name === METRIC.startFailure || name === METRIC.jobFailure ? 'Count' : PHASE_METRICS.some(([, n]) => n === name) ? 'Seconds' : 'None');
  const definitions = Object.keys(values).map((name) => ({ Name: name, Unit: unit(name) }));
  return {
    _aws: {
      Timestamp: Math.round(input.timestamp),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [[DIMENSION.environment, DIMENSION.runner], [DIMENSION.environment]],
          Metrics: definitions,
        },
        { Namespace: METRICS_NAMESPACE, Dimensions: [[DIMENSION.environment, DIMENSION.outcome, DIMENSION.reason]], Metrics: [{ Name: METRIC.jobs, Unit: 'Count' }] },
      ],
    },
    time: new Date(input.timestamp).toISOString(),
    level: 'info',
    msg: JOB_METRICS_MESSAGE,
    [DIMENSION.environment]: dimensionValue(input.environment),
    [DIMENSION.runner]: dimensionValue(input.runner),
    [DIMENSION.outcome]: input.outcome.kind,
    [DIMENSION.reason]: input.outcome.reason,
    ...values,
    start: input.start ?? 'cold',
    project: input.project,
    jobId: input.jobId,
    ...(input.taskArn !== undefined ? { taskArn: input.taskArn } : {}),
    ...(input.outcome.stage !== undefined ? { outcomeStage: input.outcome.stage } : {}),
    ...(input.outcome.exitCode !== undefined ? { exitCode: input.outcome.exitCode } : {}),
    ...(input.region !== undefined ? { region: input.region } : {}),
    ...(input.cost !== undefined
      ? {
        capacity: input.cost.capacity,
        architecture: input.cost.architecture,
        billedSeconds: input.cost.billedSeconds,
        ...(input.cost.source !== undefined ? { priceSource: input.cost.source } : {}),
      }
      : {}),
  };
}
