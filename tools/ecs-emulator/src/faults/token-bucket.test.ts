import { describe, expect, it } from 'vitest';
import { AWS_BUCKETS, Throttler } from './throttling.js';
import { TokenBucket } from './token-bucket.js';
import { FaultState } from './faults.js';

describe('TokenBucket', () => {
  it('allows the burst at once, then refills at the sustained rate up to the burst', () => {
    let now = 0;
    const bucket = new TokenBucket({ burst: 3, refillPerSecond: 2 }, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    now += 499;
    expect(bucket.tryTake()).toBe(false);
    now += 1;
    expect(bucket.tryTake()).toBe(true);
    now += 60_000;
    expect(bucket.available()).toBe(3);
  });
});

describe('Throttler', () => {
  it('uses the documented figures per category and a separate Fargate RunTask bucket', () => {
    expect(AWS_BUCKETS.clusterResourceRead).toEqual({ burst: 100, refillPerSecond: 20 });
    expect(AWS_BUCKETS.clusterResourceModify).toEqual({ burst: 100, refillPerSecond: 40 });
    const now = 0;
    const throttler = new Throttler({}, () => now);
    for (let i = 0; i < 20; i++) throttler.check('RunTask', true);
    expect(() => throttler.check('RunTask', true)).toThrow('Rate exceeded');
    // StopTask shares RunTask's ECS bucket (80 left) but not the Fargate launch bucket.
    throttler.check('StopTask', false);
    for (let i = 0; i < 100; i++) throttler.check('DescribeTasks', false);
    expect(() => throttler.check('ListTasks', false)).toThrow(expect.objectContaining({ code: 'ThrottlingException', statusCode: 400 }));
  });

  it('does nothing when disabled, and leaves unknown operations alone', () => {
    const throttler = new Throttler({ enabled: false });
    for (let i = 0; i < 1000; i++) throttler.check('DescribeTasks', false);
    const on = new Throttler({ buckets: { clusterRead: { burst: 1, refillPerSecond: 0 } } }, () => 0);
    on.check('DescribeClusters', false);
    expect(() => on.check('DescribeClusters', false)).toThrow();
    on.check('SomethingElse', false);
  });
});

describe('FaultState selectors', () => {
  it('hits the next N occasions for a count, then stops', () => {
    const faults = new FaultState();
    const hits = Array.from({ length: 4 }, () => faults.hits('k', { count: 2 }));
    expect(hits).toEqual([true, true, false, false]);
  });

  it('uses the probability after the count and hits always with neither', () => {
    const rolls = [0.1, 0.9];
    const faults = new FaultState({}, () => rolls.shift()!);
    expect(faults.hits('p', { probability: 0.5 })).toBe(true);
    expect(faults.hits('p', { probability: 0.5 })).toBe(false);
    expect(faults.hits('always', {})).toBe(true);
    expect(faults.hits('off', undefined)).toBe(false);
  });
});
