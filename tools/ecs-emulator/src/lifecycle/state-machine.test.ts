import { describe, expect, it } from 'vitest';
import type { Task } from '../ecs/model.js';
import { LoopbackPool } from './loopback-pool.js';
import { canTransition, enterStatus, requestStop, TASK_STATUSES } from './state-machine.js';

function newTask(): Task {
  return {
    taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/0123',
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/f:1',
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    cpu: '256',
    memory: '512',
    availabilityZone: 'us-east-1a',
    group: 'family:f',
    version: 1,
    createdAt: 1,
    attachments: [{ id: 'att', type: 'ElasticNetworkInterface', status: 'PRECREATED', details: [{ name: 'subnetId', value: 'subnet-1' }] }],
    attributes: [],
    containers: [{ containerArn: 'c', taskArn: 't', name: 'app', image: 'i', lastStatus: 'PENDING', networkBindings: [], networkInterfaces: [], healthStatus: 'UNKNOWN', cpu: '0' }],
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] },
    healthStatus: 'UNKNOWN',
    enableExecuteCommand: false,
    ephemeralStorage: { sizeInGiB: 20 },
    fargateEphemeralStorage: { sizeInGiB: 20 },
    tags: [],
  };
}

const eni = { eniId: 'eni-0123456789abcdef0', macAddress: '0a:00:00:00:00:01', privateIp: '127.80.0.1', subnetId: 'subnet-1' };

describe('task state machine', () => {
  it('walks the Fargate states in order, filling what AWS fills at each', () => {
    const task = newTask();
    enterStatus(task, 'PENDING', 2000, eni);
    expect(task.attachments[0]!.status).toBe('ATTACHED');
    expect(task.attachments[0]!.details.map((d) => d.name)).toEqual(['subnetId', 'networkInterfaceId', 'macAddress', 'privateDnsName', 'privateIPv4Address']);
    expect(task.attachments[0]!.details.find((d) => d.name === 'privateDnsName')!.value).toBe('ip-127-80-0-1.ec2.internal');
    expect(task).toMatchObject({ connectivity: 'CONNECTED', connectivityAt: 2, pullStartedAt: 2 });
    enterStatus(task, 'ACTIVATING', 3000);
    enterStatus(task, 'RUNNING', 3500);
    expect(task.startedAt).toBe(3.5);
    expect(task.containers[0]).toMatchObject({ lastStatus: 'RUNNING', networkInterfaces: [{ attachmentId: 'att', privateIpv4Address: '127.80.0.1' }] });
    expect(requestStop(task, 'UserInitiated', undefined, 4000)).toBe(true);
    expect(task).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING', stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user', stoppingAt: 4 });
    for (const status of ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] as const) enterStatus(task, status, 5000);
    expect(task).toMatchObject({ lastStatus: 'STOPPED', stoppedAt: 5, executionStoppedAt: 5 });
    expect(task.attachments[0]!.status).toBe('DELETED');
    expect(task.containers[0]!.lastStatus).toBe('STOPPED');
    expect(task.version).toBe(9); // 1 at launch, +1 per state and +1 for the stop decision
  });

  it('only moves forward, but may skip states when a task fails early', () => {
    expect(TASK_STATUSES).toHaveLength(8);
    expect(canTransition('PENDING', 'DEPROVISIONING')).toBe(true);
    expect(canTransition('RUNNING', 'PENDING')).toBe(false);
    expect(canTransition('STOPPED', 'STOPPED')).toBe(false);
    const task = newTask();
    enterStatus(task, 'RUNNING', 1);
    expect(() => enterStatus(task, 'ACTIVATING', 2)).toThrow(/not a forward transition/);
  });

  it('keeps the first stop decision, except TerminationNotice turning into SpotInterruption', () => {
    const task = newTask();
    enterStatus(task, 'RUNNING', 1);
    expect(requestStop(task, 'TerminationNotice', undefined, 2)).toBe(true);
    expect(requestStop(task, 'UserInitiated', 'late', 3)).toBe(false);
    expect(task.stopCode).toBe('TerminationNotice');
    expect(requestStop(task, 'SpotInterruption', undefined, 4)).toBe(true);
    expect(task).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });
    const early = newTask();
    requestStop(early, 'TaskFailedToStart', 'CannotPullContainerError: x', 1);
    expect(early.stoppingAt).toBeUndefined();
  });
});

describe('LoopbackPool', () => {
  it('hands out distinct 127.<block>.y.z addresses and does not reuse a released one at once', () => {
    const pool = new LoopbackPool(80);
    const a = pool.allocate();
    const b = pool.allocate();
    expect([a, b]).toEqual(['127.80.0.1', '127.80.0.2']);
    pool.release(a);
    expect(pool.allocate()).toBe('127.80.0.3');
    expect(pool.size).toBe(2);
    expect(() => new LoopbackPool(0)).toThrow(/1–254/);
  });
});
