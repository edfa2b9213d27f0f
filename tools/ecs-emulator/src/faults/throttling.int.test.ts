import { CreateClusterCommand, DescribeClustersCommand, ECSServiceException, ListTasksCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsClient } from '../../test/support/clients.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';

describe('API throttling with AWS token buckets', () => {
  let emu: RunningEmulator;

  beforeAll(async () => {
    emu = await startEmulator({});
    await ecsClient(emu.endpoint).send(new CreateClusterCommand({ clusterName: 'throttle' }));
  });

  afterAll(async () => {
    await emu?.stop();
  });

  it('throttles DescribeTasks/ListTasks after the documented burst of 100, with ThrottlingException "Rate exceeded"', async () => {
    emu.setThrottling({});
    const ecs = ecsClient(emu.endpoint, { maxAttempts: 1 });
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 130 }, () => ecs.send(new ListTasksCommand({ cluster: 'throttle' }))));
    const elapsedSeconds = (Date.now() - started) / 1000;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const throttled = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as ECSServiceException] : []));
    // 100 burst plus what refilled at 20/s while the calls were in flight.
    expect(ok).toBeGreaterThanOrEqual(100);
    expect(ok).toBeLessThanOrEqual(100 + Math.ceil(20 * elapsedSeconds));
    expect(ok).toBeLessThan(130);
    expect(throttled.length).toBe(130 - ok);
    const first = throttled[0]!;
    expect(first).toBeInstanceOf(ECSServiceException);
    expect(first.name).toBe('ThrottlingException');
    expect(first.message).toBe('Rate exceeded');
    expect(first.$fault).toBe('client');
    expect(first.$metadata.httpStatusCode).toBe(400);
    // Other categories have their own buckets.
    await ecs.send(new DescribeClustersCommand({ clusters: ['throttle'] }));
  });

  it.each(['standard', 'adaptive'] as const)('the SDK in %s retry mode gets through a throttled bucket', async (retryMode) => {
    emu.setThrottling({ buckets: { clusterResourceRead: { burst: 2, refillPerSecond: 4 } } });
    const ecs = ecsClient(emu.endpoint, { maxAttempts: 10, retryMode });
    const started = Date.now();
    const outs = await Promise.all(Array.from({ length: 8 }, () => ecs.send(new ListTasksCommand({ cluster: 'throttle' }))));
    const attempts = outs.map((out) => out.$metadata.attempts ?? 1);
    expect(outs.every((out) => Array.isArray(out.taskArns))).toBe(true);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
    console.log(`${retryMode}: 8 calls through a 2-burst/4-per-second bucket in ${Date.now() - started} ms, attempts ${attempts.join(',')}`);
  });

  it('can be switched off', async () => {
    emu.setThrottling({ enabled: false });
    const ecs = ecsClient(emu.endpoint, { maxAttempts: 1 });
    await Promise.all(Array.from({ length: 150 }, () => ecs.send(new ListTasksCommand({ cluster: 'throttle' }))));
  });
});
