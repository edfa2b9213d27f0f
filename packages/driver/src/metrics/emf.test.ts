import { describe, expect, it } from 'vitest';
import { emfViolations } from '../../test/emf-spec.js';
import { estimateCost } from '../cost/estimate.js';
import { jobMetricsDocument } from './emf.js';
import { METRICS_NAMESPACE } from './names.js';

const T0 = Date.parse('2026-12-03T04:00:00.000Z');
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const cost = estimateCost(
  { cpuUnits: 1024, memoryMiB: 2048, ephemeralGiB: 20, capacity: 'FARGATE', architecture: 'X86_64', region: 'us-east-1', billedFrom: T0, until: T0 + 95_000 },
  { discountPercent: 0 },
);

const success = jobMetricsDocument({
  timestamp: T0 + 95_000,
  environment: 'staging',
  runner: 'abc123xyz',
  project: 'group/project',
  jobId: '42',
  taskArn: ARN,
  outcome: { kind: 'success', reason: 'none', stage: 'build_script' },
  phases: { startLatency: 7.3, launchTime: 0.7, provisioningTime: 2.1, imagePullTime: 3.4, containerStartTime: 0.8, readinessLag: 0.4 },
  cost,
  region: 'us-east-1',
});

describe('the job metrics document (CloudWatch embedded metric format)', () => {
  it('is valid by the published specification, as the one line it is logged as', () => {
    expect(emfViolations(JSON.stringify(success))).toEqual([]);
  });

  it('carries start latency and its parts, cost, outcome, warm/cold, by environment and runner', () => {
    expect(success).toMatchObject({
      msg: 'job metrics',
      Environment: 'staging',
      Runner: 'abc123xyz',
      Outcome: 'success',
      Reason: 'none',
      Jobs: 1,
      StartFailure: 0,
      JobFailure: 0,
      StartLatency: 7.3,
      ImagePullTime: 3.4,
      ReadinessLag: 0.4,
      VcpuSeconds: 95,
      GbSeconds: 190,
      start: 'cold',
      project: 'group/project',
    });
    expect(success.Cost).toBeCloseTo((95 * (0.04048 + 2 * 0.004445)) / 3600, 6);
    const aws = success._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    const [byRunner, byOutcome] = aws.CloudWatchMetrics;
    expect(byRunner).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [['Environment', 'Runner'], ['Environment']] });
    expect(byOutcome).toMatchObject({ Dimensions: [['Environment', 'Outcome', 'Reason']] });
  });

  it('a failed start leaves out what it never had, and stays valid', () => {
    const failed = jobMetricsDocument({
      timestamp: T0,
      environment: 'prodüction',
      runner: '',
      project: '',
      jobId: '43',
      outcome: { kind: 'system_failure', reason: 'launch', stage: 'prepare' },
      phases: {},
    });
    expect(emfViolations(JSON.stringify(failed))).toEqual([]);
    expect(failed).toMatchObject({ StartFailure: 1, JobFailure: 1, Reason: 'launch', Environment: 'prod_ction', Runner: 'unknown' });
    expect(failed).not.toHaveProperty('StartLatency');
    expect(failed).not.toHaveProperty('Cost');
  });

  it('the validator refuses what the specification forbids (so a pass means something)', () => {
    type Directive = { Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] };
    const broken = structuredClone(success) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Directive[] } };
    broken._aws.CloudWatchMetrics[0]!.Dimensions.push(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    broken._aws.CloudWatchMetrics[0]!.Metrics[0]!.Unit = 'Dollars';
    broken.StartLatency = '7.3';
    delete broken.Runner;
    expect(emfViolations(JSON.stringify(broken))).toEqual([
      '_aws.CloudWatchMetrics[0].Dimensions[0]: the root node MUST have the dimension target member Runner, a string',
      '_aws.CloudWatchMetrics[0].Dimensions[2]: a DimensionSet MUST be an array of at most 9 dimension keys',
      '_aws.CloudWatchMetrics[0].Metrics[0].Unit: "Dollars" is not a CloudWatch unit',
      '_aws.CloudWatchMetrics[0].Metrics[3]: the root node MUST have the metric target member StartLatency, a number or an array of at most 100 numbers',
    ]);
    expect(emfViolations(`WARNING: ${JSON.stringify(success)} cleanup_std=err`)).toEqual(['root: not a valid JSON object']);
  });
});
