/**
 * The driver's metric and log names, as the dashboard and alarms use them. The driver defines them in
 * `packages/driver/src/metrics/names.ts`; a jsii package cannot import it, so `test/monitoring.test.ts` checks that
 * both say the same.
 */

/** CloudWatch namespace of the metrics the driver writes (embedded metric format, one document per job). */
export const DRIVER_METRICS_NAMESPACE = 'GitLabFargate';

/** The driver's per-job metric names. */
export const DRIVER_METRIC = {
  jobs: 'Jobs',
  startFailure: 'StartFailure',
  jobFailure: 'JobFailure',
  startLatency: 'StartLatency',
  imagePullTime: 'ImagePullTime',
  readinessLag: 'ReadinessLag',
  cost: 'Cost',
} as const;

/** The driver's dimension names. */
export const DRIVER_DIMENSION = {
  environment: 'Environment',
  runner: 'Runner',
  outcome: 'Outcome',
  reason: 'Reason',
} as const;

/** How `gitlab-fargate-driver gc` begins the line of each task it stopped. */
export const GC_STOPPED_PREFIX = 'stopped arn:';

/**
 * The line the orphan reaper's shell prints when rendering the driver's TOML or `gc` exits non-zero (the reaper
 * writes it, not the driver, so it also covers a render failure and a driver that never started); the monitoring's
 * metric filter counts it. Unlike gc's own error lines it cannot come from the manager's streams in the same log group.
 */
export const REAPER_FAILED_MARKER = 'gitlab-fargate orphan reaper failed';

/**
 * The manager controller's metrics, which its Lambda function writes in embedded metric format each pass. A copy of
 * the driver's `CONTROLLER_METRICS` (packages/driver/src/managers/controller-metrics.ts; this jsii package cannot
 * import it): test/monitoring.test.ts proves they agree.
 */
export const CONTROLLER_METRIC = {
  namespace: 'GitLabFargate',
  /** Managers of the current version that crashed in the last 30 minutes: a level, alarmed on its maximum. */
  managerCrashes: 'ManagerCrashes',
  /** Its one dimension: the cluster's name. */
  clusterDimension: 'Cluster',
} as const;

/** Words of the AWS throttling errors the driver logs. */
export const THROTTLING_TERMS = ['ThrottlingException', 'Rate exceeded'];
