import type { ReconcileReport } from './reconcile.js';
import type { ControllerSettings } from './settings.js';

/**
 * The manager controller's CloudWatch metrics, as its Lambda handler writes them (embedded metric format). The cdk's
 * monitoring alarms on them; a jsii package cannot import this file, so `packages/cdk/test/monitoring.test.ts` reads
 * it to check that both say the same.
 */
export const CONTROLLER_METRICS = {
  namespace: 'GitLabFargate',
  /** Managers of the current version that crashed in the last 30 minutes (a level: alarm on its maximum). */
  managerCrashes: 'ManagerCrashes',
  /** The one dimension: the cluster's name. */
  clusterDimension: 'Cluster',
} as const;

/** The cluster's name, from its name or ARN. */
function clusterName(cluster: string): string {
  return cluster.slice(cluster.lastIndexOf('/') + 1);
}

/**
 * One pass's CloudWatch embedded metric format document
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * CloudWatch Logs extracts it from a Lambda function's log when it is a log event of its own: one line on stdout.
 */
export function controllerMetricsDocument(
  settings: ControllerSettings, report: ReconcileReport, timestamp: number,
): Record<string, unknown> {
  const m = CONTROLLER_METRICS;
  return {
    _aws: {
      Timestamp: Math.round(timestamp),
      CloudWatchMetrics: [{ Namespace: m.namespace, Dimensions: [[m.clusterDimension]], Metrics: [{ Name: m.managerCrashes, Unit: 'Count' }] }],
    },
    [m.clusterDimension]: clusterName(settings.cluster),
    [m.managerCrashes]: report.crashed.length,
    managerVersion: settings.taskDefinition,
    crashedManagers: report.crashed,
  };
}
