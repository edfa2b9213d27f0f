/**
 * Names of the driver's CloudWatch metrics (embedded metric format, written by cleanup) and of the log text the
 * `@gitlab-fargate/cdk` monitoring turns into metrics. Self-contained on purpose: the cdk package (jsii, CommonJS)
 * cannot import the driver, so its test reads this file to check that both sides use the same names.
 */

/** The CloudWatch namespace of every driver metric. */
export const METRICS_NAMESPACE = 'GitLabFargate';

/** Metric names, one data point per job each. */
export const METRIC = {
  /** 1 per job (sum = jobs; with Outcome and Reason: jobs by outcome). */
  jobs: 'Jobs',
  /** 1 when prepare never made the task usable, else 0 (average = start-failure rate). */
  startFailure: 'StartFailure',
  /** 1 when the job failed for any reason (script or system), else 0. */
  jobFailure: 'JobFailure',
  /** Prepare's start to the task answering SSH, seconds. */
  startLatency: 'StartLatency',
  /** Prepare's start to RunTask's answer (key generation, RunTask and its retries). */
  launchTime: 'LaunchTime',
  /** ECS createdAt to the image pull's start (capacity, network interface). */
  provisioningTime: 'ProvisioningTime',
  imagePullTime: 'ImagePullTime',
  /** The pull's end to ECS startedAt. */
  containerStartTime: 'ContainerStartTime',
  /** ECS startedAt (or RUNNING seen) to SSH ready. */
  readinessLag: 'ReadinessLag',
  /** Estimated US dollars for the task. */
  cost: 'Cost',
  vcpuSeconds: 'VcpuSeconds',
  gbSeconds: 'GbSeconds',
} as const;

/** Dimension names (members of the EMF document). */
export const DIMENSION = {
  environment: 'Environment',
  runner: 'Runner',
  outcome: 'Outcome',
  reason: 'Reason',
} as const;

/** `msg` of the per-job metrics record in the driver's log, which `report` reads. */
export const JOB_METRICS_MESSAGE = 'job metrics';

/**
 * The tag the cdk puts on every job task with the environment's name; the driver reads it from `[Fargate] Tags`
 * for the Environment dimension (else the cluster name).
 */
export const ENVIRONMENT_TAG = 'gitlab-fargate:environment';

/** How `gc` begins the line for each task it stopped (the reaper's stops are counted from these lines). */
export const GC_STOPPED_PREFIX = 'stopped arn:';

/**
 * Words in AWS throttling errors the driver logs (the cdk counts them from the manager's log group). No driver code
 * reads it: it is the driver's side of that contract, which packages/cdk/test/monitoring.test.ts reads from this file
 * and compares with the cdk's copy.
 *
 * @public
 */
export const THROTTLING_TERMS = ['ThrottlingException', 'Rate exceeded'] as const;
