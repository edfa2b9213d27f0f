import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { RunnerEnvironment } from '../runner-environment';
import { acknowledgeNag } from '../validation/nag';
import {
  DRIVER_DIMENSION,
  DRIVER_METRIC,
  DRIVER_METRICS_NAMESPACE,
  GC_STOPPED_PREFIX,
  REAPER_FAILED_MARKER,
  CONTROLLER_METRIC,
  THROTTLING_TERMS,
} from './metric-names';

/** Options of {@link RunnerMonitoring}; the defaults suit a small team (a few hundred jobs a day). */
export interface RunnerMonitoringOptions {
  /**
   * Where alarms are sent. Subscribe to it (email, chat) to hear about them.
   * @default - a new topic that requires TLS
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Email addresses subscribed to the alarm topic (each confirms by email).
   * @default - none
   */
  readonly alarmEmails?: string[];

  /**
   * Alarm when more than this percentage of an hour's job starts failed (capacity, image pull, task stopped, SSH
   * never ready; cancelled starts do not count).
   * @default 10
   */
  readonly startFailurePercent?: number;

  /**
   * Alarm when an hour's 95th-percentile start latency (prepare's start to SSH ready) exceeds this.
   * @default Duration.minutes(2)
   */
  readonly startLatencyP95?: Duration;

  /**
   * Alarm when the orphan reaper stopped at least this many leaked tasks in an hour (each one is a job whose
   * cleanup never ran, and a task that ran, and cost, until the reaper came).
   * @default 1
   */
  readonly reaperStops?: number;

  /**
   * With an orphan reaper: alarm when it failed (rendering the driver's TOML or `gc` exited non-zero) at least this
   * many times in an hour. A reaper that keeps failing stops nothing, and leaked tasks run, and cost, until noticed.
   * @default 1
   */
  readonly reaperFailures?: number;

  /**
   * Alarm when the manager controller's passes failed at least this many times in an hour (its Lambda function's
   * `Errors`: a pass that could not do something, a bad setting, a timeout). It runs every minute; while it fails, no
   * manager replaces one that died and old managers are not stopped.
   * @default 3
   */
  readonly controllerFailures?: number;

  /**
   * Alarm when at least this many managers of the current version crashed (failed to start, or exited non-zero)
   * within 30 minutes: a new version that crash-loops. The controller starts a replacement every minute, the old
   * managers have drained, and jobs queue until a working version is deployed.
   * @default 3
   */
  readonly managerCrashes?: number;

  /**
   * The dashboard's name.
   * @default `gitlab-fargate-${environmentName}`
   */
  readonly dashboardName?: string;
}

/** Properties of {@link RunnerMonitoring}. */
export interface RunnerMonitoringProps extends RunnerMonitoringOptions {
  /** The environment to watch. */
  readonly environment: RunnerEnvironment;
}

const HOUR = Duration.hours(1);

/**
 * A CloudWatch dashboard and alarms for one runner environment, with an SNS topic for the alarms.
 *
 * Job metrics come from the driver: its cleanup stage writes one CloudWatch embedded metric format document per job
 * (namespace `GitLabFargate`, dimension `Environment`), which CloudWatch Logs turns into metrics without any API
 * call. The document must reach the log group as a log event of its own: point the driver's `LogFile` at output the
 * manager ships as it is (gitlab-runner wraps cleanup's stderr in its own log lines). Leaked tasks the reaper stopped,
 * the reaper's failed runs and API throttling are counted from the manager's log group by metric filters (namespace
 * `GitLabFargate/<environment>`).
 */
export class RunnerMonitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarmTopic: sns.ITopic;
  public readonly startFailureAlarm: cloudwatch.Alarm;
  public readonly startLatencyAlarm: cloudwatch.Alarm;
  public readonly reaperStopsAlarm: cloudwatch.Alarm;
  /** The orphan reaper's failed runs, when the environment has a reaper. */
  public readonly reaperFailuresAlarm?: cloudwatch.Alarm;
  /** Leaked tasks the orphan reaper stopped (sum per hour). */
  public readonly reaperStops: cloudwatch.IMetric;
  /** The manager controller's failed passes (its Lambda function's errors). */
  public readonly controllerFailuresAlarm: cloudwatch.Alarm;
  /**
   * The manager controller did not run for 5 minutes (no `Invocations` of its Lambda function, or no data).
   *
   * Its schedule is disabled or deleted, or its invocations are throttled (reserved concurrency 0). While it does not
   * run, no manager is started, replaced or drained.
   */
  public readonly controllerNotRunningAlarm: cloudwatch.Alarm;
  /** Managers of the current version crashing: a new version that crash-loops. */
  public readonly managerCrashesAlarm: cloudwatch.Alarm;

  private readonly environmentName: string;
  private readonly notify: actions.SnsAction;

  constructor(scope: Construct, id: string, props: RunnerMonitoringProps) {
    super(scope, id);
    this.environmentName = props.environment.environmentName;
    const logGroup = props.environment.manager.logGroup;
    this.reaperStops = logMetric(this, 'Reaper Stops Filter', logGroup, this.environmentName, 'ReaperStops', logs.FilterPattern.literal(`"${GC_STOPPED_PREFIX}"`));
    const throttles = logMetric(this, 'API Throttling Filter', logGroup, this.environmentName, 'ApiThrottles', logs.FilterPattern.anyTerm(...THROTTLING_TERMS));

    this.alarmTopic = props.alarmTopic ?? this.newTopic();
    for (const email of props.alarmEmails ?? []) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    this.notify = new actions.SnsAction(this.alarmTopic);

    const failurePercent = props.startFailurePercent ?? 10;
    const latency = props.startLatencyP95 ?? Duration.minutes(2);
    const stops = props.reaperStops ?? 1;
    const failed = this.jobMetric(DRIVER_METRIC.startFailure, 'Average');
    this.startFailureAlarm = this.alarm(
      'Start Failures',
      new cloudwatch.MathExpression({ expression: '100 * failed', usingMetrics: { failed }, label: 'start failures (%)', period: HOUR }),
      failurePercent,
      `more than ${failurePercent}% of job starts failed in an hour`,
    );
    this.startLatencyAlarm = this.alarm(
      'Start Latency', this.jobMetric(DRIVER_METRIC.startLatency, 'p95'), latency.toSeconds(), `p95 start latency over ${latency.toSeconds()} s in an hour`,
    );
    this.reaperStopsAlarm = this.alarm('Reaper Stops', this.reaperStops, stops - 1, `the orphan reaper stopped ${stops} or more leaked tasks in an hour`);
    if (props.environment.orphanReaper) this.reaperFailuresAlarm = this.reaperFailures(logGroup, props.reaperFailures ?? 1);
    this.controllerFailuresAlarm = this.newControllerFailuresAlarm(props);
    this.controllerNotRunningAlarm = this.newControllerNotRunningAlarm(props);
    const crashes = props.managerCrashes ?? 3;
    this.managerCrashesAlarm = this.alarm(
      'Manager Crashes', managerCrashes(props.environment), crashes - 1,
      `${crashes} or more managers of the current version crashed within 30 minutes: a new version that crash-loops ` +
        "(see the controller's log group for why; deploy a working version)",
    );

    this.dashboard = this.newDashboard(props.dashboardName ?? `gitlab-fargate-${this.environmentName}`, throttles);
  }

  /** A driver metric of this environment (the `Environment` dimension). */
  private jobMetric(metricName: string, statistic: string, period: Duration = HOUR): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DRIVER_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [DRIVER_DIMENSION.environment]: this.environmentName },
      statistic,
      period,
    });
  }

  /** An hourly alarm above `threshold` that notifies the topic; an hour without data is not a problem. */
  private alarm(alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, alarmId, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `gitlab-fargate ${this.environmentName}: ${description}`,
    });
    created.addAlarmAction(this.notify);
    return created;
  }

  /** The controller's failed passes: its Lambda function's Errors (a failed pass throws, a timeout counts too). */
  private newControllerFailuresAlarm(props: RunnerMonitoringProps): cloudwatch.Alarm {
    const failures = props.controllerFailures ?? 3;
    return this.alarm(
      'Controller Failures',
      props.environment.controller.reconcileFunction.metricErrors({ statistic: 'Sum', period: HOUR }),
      failures - 1,
      `the manager controller failed ${failures} or more times in an hour (see its log group)`,
    );
  }

  /**
   * The controller's invocations over 5 minutes (it runs every minute): none is an alarm, and so is no data, since
   * Lambda publishes no `Invocations` for a function that was not invoked; a throttled invocation (its reserved
   * concurrency set to 0) is not counted either
   * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#invocation-metrics).
   */
  private newControllerNotRunningAlarm(props: RunnerMonitoringProps): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, 'Controller Not Running', {
      metric: props.environment.controller.reconcileFunction.metricInvocations({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription:
        `gitlab-fargate ${this.environmentName}: the manager controller did not run for 5 minutes (its EventBridge rule ` +
        'disabled or deleted, or its function throttled): no manager is started, replaced or drained meanwhile',
    });
    created.addAlarmAction(this.notify);
    return created;
  }

  /** The orphan reaper's failed runs, counted from the line it prints when rendering or gc fails. */
  private reaperFailures(logGroup: logs.ILogGroup, failures: number): cloudwatch.Alarm {
    const failedPattern = logs.FilterPattern.literal(`"${REAPER_FAILED_MARKER}"`);
    const failedRuns = logMetric(this, 'Reaper Failures Filter', logGroup, this.environmentName, 'ReaperFailures', failedPattern);
    return this.alarm(
      'Reaper Failures',
      failedRuns,
      failures - 1,
      `the orphan reaper failed ${failures} or more times in an hour (see the orphan-reaper log streams)`,
    );
  }

  private newDashboard(dashboardName: string, throttles: cloudwatch.IMetric): cloudwatch.Dashboard {
    const jobMetric = (metricName: string, statistic: string, period?: Duration) => this.jobMetric(metricName, statistic, period);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName, defaultInterval: Duration.days(7) });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Jobs per hour', left: [jobMetric(DRIVER_METRIC.jobs, 'Sum').with({ label: 'jobs' }), jobMetric(DRIVER_METRIC.jobFailure, 'Sum').with({ label: 'failed' })] }),
      new cloudwatch.GraphWidget({
        title: 'Start latency (s)',
        left: [jobMetric(DRIVER_METRIC.startLatency, 'p50').with({ label: 'p50' }), jobMetric(DRIVER_METRIC.startLatency, 'p95').with({ label: 'p95' })],
        leftAnnotations: [this.startLatencyAlarm.toAnnotation()],
      }),
      new cloudwatch.GraphWidget({ title: 'Failures by reason', left: [failuresByReason(this.environmentName)] }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Estimated cost per day (USD)', left: [jobMetric(DRIVER_METRIC.cost, 'Sum', Duration.days(1)).with({ label: 'cost' })] }),
      new cloudwatch.GraphWidget({ title: 'Leaked tasks stopped by the reaper', left: [this.reaperStops] }),
      new cloudwatch.GraphWidget({ title: 'AWS API throttling reaching the driver', left: [throttles] }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Manager controller',
        // Failed passes per hour (the function's Errors), and the current version's crashes in the last 30 minutes.
        left: [this.controllerFailuresAlarm.metric],
        right: [this.managerCrashesAlarm.metric],
      }),
    );
    return dashboard;
  }

  private newTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'Alarms', { displayName: 'gitlab-fargate alarms', enforceSSL: true });
    acknowledgeNag(
      topic,
      'AwsSolutions-SNS2',
      'Alarm notifications carry alarm names and thresholds, nothing secret. CloudWatch cannot publish to a topic ' +
        'encrypted with the AWS managed SNS key; pass alarmTopic to use a topic with your own KMS key.',
    );
    return topic;
  }
}

/**
 * The current version's managers that crashed in the last 30 minutes, as each controller pass counts them: a level,
 * so its maximum over 5 minutes.
 */
function managerCrashes(environment: RunnerEnvironment): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: CONTROLLER_METRIC.namespace,
    metricName: CONTROLLER_METRIC.managerCrashes,
    dimensionsMap: { [CONTROLLER_METRIC.clusterDimension]: environment.cluster.clusterName },
    statistic: 'Maximum',
    period: Duration.minutes(5),
  });
}

/** Jobs by outcome and reason, from the driver's Environment+Outcome+Reason dimension set (one line per pair). */
function failuresByReason(environmentName: string): cloudwatch.MathExpression {
  const search =
    `SEARCH('{${DRIVER_METRICS_NAMESPACE},${DRIVER_DIMENSION.environment},${DRIVER_DIMENSION.outcome},${DRIVER_DIMENSION.reason}} ` +
    `MetricName="${DRIVER_METRIC.jobs}" ${DRIVER_DIMENSION.environment}="${environmentName}" NOT ${DRIVER_DIMENSION.outcome}="success"', 'Sum', 3600)`;
  return new cloudwatch.MathExpression({ expression: search, usingMetrics: {}, label: '', period: HOUR });
}

/** A count from the manager's log group (all its streams: manager and reaper). */
function logMetric(
  scope: Construct,
  id: string,
  logGroup: logs.ILogGroup,
  environmentName: string,
  metricName: string,
  pattern: logs.IFilterPattern,
): cloudwatch.Metric {
  const filter = new logs.MetricFilter(scope, id, {
    logGroup,
    filterPattern: pattern,
    metricNamespace: `${DRIVER_METRICS_NAMESPACE}/${environmentName}`,
    metricName,
    metricValue: '1',
    defaultValue: 0,
  });
  return filter.metric({ statistic: 'Sum', period: HOUR });
}
