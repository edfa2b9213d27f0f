import { describe, expect, it } from 'vitest';
import { SystemFailure } from '../errors.js';
import { CONTROLLER_VARIABLES as V, DEFAULT_DRAIN_SETTLE_SECONDS, familyOf, familyRevision, readControllerSettings } from './settings.js';

const ARN = 'arn:aws:ecs:eu-west-1:111111111111:task-definition/gitlab-fargate-dev-manager:7';
const GOOD = {
  [V.cluster]: 'runners-dev',
  [V.taskDefinition]: ARN,
  [V.containerName]: 'runner-manager',
  [V.count]: '2',
  [V.subnets]: 'subnet-0a1, subnet-0b2',
  [V.securityGroups]: 'sg-0c3',
  [V.assignPublicIp]: 'false',
  [V.drainTimeout]: '11400',
};

describe('readControllerSettings', () => {
  it('reads what the CDK construct sets, with the settle time defaulted', () => {
    expect(readControllerSettings(GOOD)).toEqual({
      cluster: 'runners-dev',
      taskDefinition: ARN,
      containerName: 'runner-manager',
      count: 2,
      subnets: ['subnet-0a1', 'subnet-0b2'],
      securityGroups: ['sg-0c3'],
      assignPublicIp: false,
      drainTimeoutSeconds: 11400,
      drainSettleSeconds: DEFAULT_DRAIN_SETTLE_SECONDS,
    });
    expect(readControllerSettings({ ...GOOD, [V.drainSettle]: '0', [V.assignPublicIp]: 'true' })).toMatchObject({ drainSettleSeconds: 0, assignPublicIp: true });
  });

  it('reports every bad variable at once, by name, before any AWS call', () => {
    let caught: unknown;
    try {
      readControllerSettings({ ...GOOD, [V.taskDefinition]: 'gitlab-fargate-dev-manager', [V.count]: '0', [V.subnets]: 'subnet-0a1,vpc-1' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SystemFailure);
    const message = (caught as Error).message;
    expect(message).toContain('MANAGER_TASK_DEFINITION must be a task definition with its revision (FAMILY:REVISION or its ARN), found "gitlab-fargate-dev-manager"');
    expect(message).toContain('MANAGER_COUNT must be a number of managers from 1 to 10, found "0"');
    expect(message).toContain('MANAGER_SUBNETS: "vpc-1" is not a subnet ID');
    expect(() => readControllerSettings({})).toThrow(/CLUSTER must be the cluster name or ARN, found nothing/);
  });

  it('takes the family and revision from an ARN or a FAMILY:REVISION', () => {
    expect(familyRevision(ARN)).toBe('gitlab-fargate-dev-manager:7');
    expect(familyOf(ARN)).toBe('gitlab-fargate-dev-manager');
    expect(familyOf('other:12')).toBe('other');
  });
});
