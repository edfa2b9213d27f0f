import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, test } from 'vitest';
import { RunnerEnvironment, RunnerMonitoring } from '../src';
import {
  DRIVER_DIMENSION,
  DRIVER_METRIC,
  DRIVER_METRICS_NAMESPACE,
  GC_STOPPED_PREFIX,
  REAPER_FAILED_MARKER,
  CONTROLLER_METRIC,
  THROTTLING_TERMS,
} from '../src/monitoring/metric-names';
import { logicalId, newStack, validProps } from './helpers';

describe('RunnerMonitoring with defaults', () => {
  let template: Template;
  let topicId: string;

  beforeAll(() => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc, 'staging'));
    new RunnerMonitoring(stack, 'Monitoring', { environment, alarmEmails: ['platform@example.com'] });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    template = Template.fromStack(stack);
    topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
  });

  test('an SNS topic that requires TLS, with the given email subscribed', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'platform@example.com', TopicArn: { Ref: topicId } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('alarms on p95 start latency (2 min), start-failure rate (10%), reaper stops and failures (any), each notifying the topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GitLabFargate',
      MetricName: 'StartLatency',
      ExtendedStatistic: 'p95',
      Dimensions: [{ Name: 'Environment', Value: 'staging' }],
      Period: 3600,
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 10,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * failed' }),
        Match.objectLike({
          Id: 'failed',
          MetricStat: Match.objectLike({ Metric: { Namespace: 'GitLabFargate', MetricName: 'StartFailure', Dimensions: [{ Name: 'Environment', Value: 'staging' }] }, Stat: 'Average', Period: 3600 }),
        }),
      ]),
      AlarmActions: [{ Ref: topicId }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GitLabFargate/staging',
      MetricName: 'ReaperStops',
      Statistic: 'Sum',
      Threshold: 0,
      AlarmActions: [{ Ref: topicId }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GitLabFargate/staging',
      MetricName: 'ReaperFailures',
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  test('metric filters on the manager log group count the reaper\'s stops and failed runs, and API throttling', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((r) => r.Properties);
    expect(filters).toEqual([
      expect.objectContaining({
        FilterPattern: '"stopped arn:"',
        MetricTransformations: [{ MetricNamespace: 'GitLabFargate/staging', MetricName: 'ReaperStops', MetricValue: '1', DefaultValue: 0 }],
      }),
      expect.objectContaining({
        FilterPattern: '?"ThrottlingException" ?"Rate exceeded"',
        MetricTransformations: [{ MetricNamespace: 'GitLabFargate/staging', MetricName: 'ApiThrottles', MetricValue: '1', DefaultValue: 0 }],
      }),
      expect.objectContaining({
        // The line the reaper's own command prints when rendering or gc exits non-zero (test/renderer-contract runs it).
        FilterPattern: `"${REAPER_FAILED_MARKER}"`,
        MetricTransformations: [{ MetricNamespace: 'GitLabFargate/staging', MetricName: 'ReaperFailures', MetricValue: '1', DefaultValue: 0 }],
      }),
    ]);
    const managerLogs = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.includes('Manager'));
    for (const filter of filters) expect(filter.LogGroupName).toEqual({ Ref: managerLogs });
  });

  test('a dashboard with jobs, p50/p95 start latency, failures by reason, cost per day, reaper stops and throttling', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards.map((d) => d.Properties.DashboardName)).toEqual(['gitlab-fargate-staging']);
    // The body is a Fn::Join of JSON text around { Ref: AWS::Region }.
    const parts = dashboards[0]?.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'REGION')).join('')) as {
      widgets: { properties: { title: string; metrics: unknown[][] } }[];
    };
    const metricsOf = (title: string) => body.widgets.find((w) => w.properties.title === title)?.properties.metrics;
    expect(body.widgets.map((w) => w.properties.title)).toEqual([
      'Jobs per hour',
      'Start latency (s)',
      'Failures by reason',
      'Estimated cost per day (USD)',
      'Leaked tasks stopped by the reaper',
      'AWS API throttling reaching the driver',
      'Manager controller',
    ]);
    expect(metricsOf('Jobs per hour')).toEqual([
      ['GitLabFargate', 'Jobs', 'Environment', 'staging', { label: 'jobs', period: 3600, stat: 'Sum' }],
      ['GitLabFargate', 'JobFailure', 'Environment', 'staging', { label: 'failed', period: 3600, stat: 'Sum' }],
    ]);
    expect(metricsOf('Start latency (s)')?.map((m) => m[4])).toEqual([
      { label: 'p50', period: 3600, stat: 'p50' },
      { label: 'p95', period: 3600, stat: 'p95' },
    ]);
    expect(metricsOf('Failures by reason')).toEqual([
      [{ expression: `SEARCH('{GitLabFargate,Environment,Outcome,Reason} MetricName="Jobs" Environment="staging" NOT Outcome="success"', 'Sum', 3600)`, period: 3600 }],
    ]);
    expect(metricsOf('Estimated cost per day (USD)')).toEqual([['GitLabFargate', 'Cost', 'Environment', 'staging', { label: 'cost', period: 86400, stat: 'Sum' }]]);
    expect(metricsOf('Leaked tasks stopped by the reaper')).toEqual([['GitLabFargate/staging', 'ReaperStops', { period: 3600, stat: 'Sum' }]]);
    expect(metricsOf('AWS API throttling reaching the driver')).toEqual([['GitLabFargate/staging', 'ApiThrottles', { period: 3600, stat: 'Sum' }]]);
    expect(metricsOf('Manager controller')).toEqual([
      ['AWS/Lambda', 'Errors', 'FunctionName', expect.anything(), { period: 3600, stat: 'Sum' }],
      // 5 minutes, the dashboard's default period, is left out.
      ['GitLabFargate', 'ManagerCrashes', 'Cluster', expect.anything(), { stat: 'Maximum', yAxis: 'right' }],
    ]);
  });
});

describe('RunnerMonitoring options', () => {
  test('a given topic and thresholds are used, and no topic is created', () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    const topic = new sns.Topic(stack, 'Ours', { enforceSSL: true });
    new RunnerMonitoring(stack, 'Monitoring', { environment, alarmTopic: topic, startLatencyP95: Duration.seconds(45), startFailurePercent: 25, reaperStops: 3, reaperFailures: 2, dashboardName: 'ci' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'StartLatency', Threshold: 45 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 25, Metrics: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ReaperStops', Threshold: 2 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ReaperFailures', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'ci' });
  });

  test('without an orphan reaper there is no reaper-failure filter or alarm', () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), orphanReaper: undefined });
    const monitoring = new RunnerMonitoring(stack, 'Monitoring', { environment });
    const template = Template.fromStack(stack);
    expect(monitoring.reaperFailuresAlarm).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.resourcePropertiesCountIs('AWS::Logs::MetricFilter', { FilterPattern: `"${REAPER_FAILED_MARKER}"` }, 0);
  });
});

describe('the names the dashboard uses are the ones the driver writes', () => {
  // The driver (ESM) cannot be imported by this jsii package: read its one home of these names.
  const driverNames = fs.readFileSync(path.join(__dirname, '..', '..', 'driver', 'src', 'metrics', 'names.ts'), 'utf8');
  const constant = (name: string): string => {
    const match = new RegExp(`export const ${name} = ([\\s\\S]*?);\\n`).exec(driverNames);
    if (!match) throw new Error(`${name} not found in the driver's metrics/names.ts`);
    return match[1] as string;
  };
  const quoted = (text: string): string[] => [...text.matchAll(/'([^']*)'/g)].map((m) => m[1] as string);

  test('namespace, metric names, dimension names', () => {
    expect(quoted(constant('METRICS_NAMESPACE'))).toEqual([DRIVER_METRICS_NAMESPACE]);
    const metrics = constant('METRIC');
    for (const [key, name] of Object.entries(DRIVER_METRIC)) expect(metrics).toMatch(new RegExp(`\\b${key}: '${name}'`));
    const dimensions = constant('DIMENSION');
    for (const [key, name] of Object.entries(DRIVER_DIMENSION)) expect(dimensions).toMatch(new RegExp(`\\b${key}: '${name}'`));
  });

  test('the log text the metric filters match', () => {
    expect(quoted(constant('GC_STOPPED_PREFIX'))).toEqual([GC_STOPPED_PREFIX]);
    expect(quoted(constant('THROTTLING_TERMS'))).toEqual(THROTTLING_TERMS);
  });
});

describe('the manager controller alarms', () => {
  test("fire at 3 failed passes an hour (its Lambda function's Errors; it runs every minute) and notify the topic", () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc, 'staging'));
    const monitoring = new RunnerMonitoring(stack, 'Monitoring', { environment });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(template, 'AWS::Lambda::Function', 'DevManagerControllerFunction') } }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0] }],
    });
    expect(monitoring.controllerFailuresAlarm).toBeDefined();
    // No metric filter on the managers' log group for the controller any more: it logs to its own group.
    expect(JSON.stringify(template.findResources('AWS::Logs::MetricFilter'))).not.toContain('ControllerFailures');
  });

  test('fire when 3 managers of the current version crashed within 30 minutes (a crash-looping version)', () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc, 'staging'));
    const monitoring = new RunnerMonitoring(stack, 'Monitoring', { environment });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GitLabFargate',
      MetricName: 'ManagerCrashes',
      Dimensions: [{ Name: 'Cluster', Value: { Ref: logicalId(template, 'AWS::ECS::Cluster', 'DevCluster') } }],
      // A level each pass writes (crashes in the last 30 minutes): its maximum, not its sum.
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0] }],
    });
    expect(monitoring.managerCrashesAlarm.alarmArn).toBeDefined();
  });

  test('fire when the controller did not run for 5 minutes: no invocation, and no data, is an alarm', () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc, 'staging'));
    const monitoring = new RunnerMonitoring(stack, 'Monitoring', { environment });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(template, 'AWS::Lambda::Function', 'DevManagerControllerFunction') } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // Lambda publishes no Invocations for a function nothing invoked: missing data is the failure itself.
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0] }],
    });
    expect(monitoring.controllerNotRunningAlarm.alarmArn).toBeDefined();
  });

  test("use the metric names the controller's Lambda handler writes (the jsii package keeps a copy of them)", () => {
    const source = fs.readFileSync(path.join(__dirname, '../../driver/src/managers/controller-metrics.ts'), 'utf8');
    const block = /CONTROLLER_METRICS = \{([\s\S]*?)\} as const;/.exec(source)?.[1] ?? '';
    const driver = Object.fromEntries([...block.matchAll(/(\w+): '([^']+)'/g)].map((match) => [match[1], match[2]]));
    expect(driver).toEqual(CONTROLLER_METRIC);
  });

  test('take other thresholds', () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    new RunnerMonitoring(stack, 'Monitoring', { environment, controllerFailures: 10, managerCrashes: 5 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 9 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ManagerCrashes', Threshold: 4 });
  });
});
