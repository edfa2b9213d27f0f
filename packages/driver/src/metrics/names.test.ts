import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { gcStage } from '../stages/gc.js';
import { GC_STOPPED_PREFIX } from './names.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const NOW = Date.UTC(2026, 11, 3, 4, 0, 0);
const ORPHAN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';

beforeEach(() => ecsMock.reset());

describe('the log text the cdk monitoring counts', () => {
  it("gc's line for each task it stopped starts with GC_STOPPED_PREFIX (the reaper-stops metric filter matches it)", async () => {
    // A reaper beside the manager: no state directory, a task past its deadline tag.
    const { ctx, progress } = testContext({ toml: '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n' });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [ORPHAN] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [{ taskArn: ORPHAN, createdAt: new Date(NOW - 7_200_000), desiredStatus: 'RUNNING', tags: [{ key: 'gitlab-fargate:deadline', value: '2026-12-03T03:00:00Z' }] }],
    });
    ecsMock.on(StopTaskCommand).resolves({});
    await gcStage(ctx, { dryRun: false, minAgeSeconds: 36_000, clients, now: () => NOW });
    const stopped = progress.lines.filter((line) => line.includes(ORPHAN) && !line.startsWith('would'));
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.startsWith(GC_STOPPED_PREFIX)).toBe(true);
  });
});
