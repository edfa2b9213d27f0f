import { DescribeTasksCommand, ECSClient, ListTasksCommand, type Tag } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deadManagers, type Fleet, observeFleet } from './fleet.js';
import type { ControllerSettings } from './settings.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const taskArn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${id}`;
const MANAGER_FAMILY = 'arn:aws:ecs:us-east-1:123456789012:task-definition/gitlab-fargate-dev-manager:7';
const settings = { cluster: 'ci', taskDefinition: MANAGER_FAMILY } as ControllerSettings;

beforeEach(() => ecsMock.reset());

describe('deadManagers', () => {
  it('counts a manager dead once ECS reports it STOPPED, not while it is stopping and finishing its jobs', async () => {
    const fleet: Fleet = { managers: [], jobsByManager: new Map([['gone', []], ['stopping', []], ['other', []]]) };
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: taskArn('gone'), taskDefinitionArn: MANAGER_FAMILY, desiredStatus: 'STOPPED', lastStatus: 'STOPPED' },
        { taskArn: taskArn('stopping'), taskDefinitionArn: MANAGER_FAMILY, desiredStatus: 'STOPPED', lastStatus: 'RUNNING' },
        // Not a manager of this family: left to the orphan reaper.
        { taskArn: taskArn('other'), taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:1', desiredStatus: 'STOPPED', lastStatus: 'STOPPED' },
      ],
    });
    expect(await deadManagers(ecs, settings, fleet)).toEqual(['gone']);
  });
});

describe('observeFleet', () => {
  it("counts a claimed pool task as its manager's job, and an idle one (no claim tag) as no job at all", async () => {
    const tags = (extra: Tag[]): Tag[] => [{ key: 'gitlab-fargate:manager', value: 'm1' }, ...extra];
    const job = (id: string, extra: Tag[]) => ({ taskArn: taskArn(id), startedBy: 'gitlab-fargate/abc123xyz', desiredStatus: 'RUNNING', lastStatus: 'RUNNING', tags: tags(extra) });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: ['cold', 'idle', 'claimed'].map(taskArn) });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        job('cold', []),
        job('idle', [{ key: 'gitlab-fargate:pool', value: 'warm' }]),
        job('claimed', [{ key: 'gitlab-fargate:pool', value: 'warm' }, { key: 'gitlab-fargate:pool-claimed', value: '42' }]),
      ],
    });
    const fleet = await observeFleet(ecs, settings);
    expect(fleet.jobsByManager.get('m1')?.map((task) => task.taskArn)).toEqual([taskArn('cold'), taskArn('claimed')]);
  });
});
