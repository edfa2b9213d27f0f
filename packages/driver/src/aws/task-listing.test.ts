import { DescribeTasksCommand, type DescribeTasksCommandInput, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeTasksWithTags, listTaskArns, tagOf } from './task-listing.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const arn = (i: number) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${i}`;

beforeEach(() => ecsMock.reset());

describe('task listing for gc', () => {
  it('follows ListTasks pages to the end', async () => {
    ecsMock
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [arn(1)], nextToken: 'a' })
      .resolvesOnce({ taskArns: [], nextToken: 'b' })
      .resolves({ taskArns: [arn(2)] });
    expect(await listTaskArns(ecs, 'ci', 'gitlab-fargate/abc')).toEqual([arn(1), arn(2)]);
    expect(ecsMock).toHaveReceivedCommandTimes(ListTasksCommand, 3);
    expect(ecsMock).toHaveReceivedNthCommandWith(ListTasksCommand, 3, { cluster: 'ci', startedBy: 'gitlab-fargate/abc', nextToken: 'b' });
  });

  it('describes tasks with their tags, 100 at a time, leaving out those ECS no longer knows', async () => {
    ecsMock.on(DescribeTasksCommand).callsFake((input: DescribeTasksCommandInput) => ({
      tasks: (input.tasks ?? []).filter((t) => !t.endsWith('/7')).map((taskArn) => ({ taskArn, tags: [{ key: 'gitlab-fargate:job-id', value: taskArn.split('/').at(-1) }] })),
      failures: [{ arn: arn(7), reason: 'MISSING' }],
    }));
    const arns = Array.from({ length: 250 }, (_, i) => arn(i));
    const tasks = await describeTasksWithTags(ecs, 'ci', arns);
    expect(tasks).toHaveLength(249);
    expect(ecsMock.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks?.length)).toEqual([100, 100, 50]);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, { cluster: 'ci', include: ['TAGS'] });
    expect(tagOf(tasks[0]!, 'gitlab-fargate:job-id')).toBe('0');
    expect(tagOf(tasks[0]!, 'gitlab-fargate:deadline')).toBeUndefined();
  });
});
