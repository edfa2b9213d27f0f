import { describe, expect, it } from 'vitest';
import { type TaskUsage, estimateCost } from './estimate.js';

const NO_OVERRIDE = { discountPercent: 0 };
const T0 = Date.parse('2026-12-03T04:00:00.000Z');

/** 1 vCPU / 2 GB / 20 GiB on-demand x86 in us-east-1, billed from T0 for `seconds`. */
function usage(seconds: number, change: Partial<TaskUsage> = {}): TaskUsage {
  return { cpuUnits: 1024, memoryMiB: 2048, ephemeralGiB: 20, capacity: 'FARGATE', architecture: 'X86_64', region: 'us-east-1', billedFrom: T0, until: T0 + seconds * 1000, ...change };
}

describe('estimateCost', () => {
  it('bills a job shorter than a minute as one minute', () => {
    const cost = estimateCost(usage(12.3), NO_OVERRIDE);
    expect(cost).toMatchObject({ billedSeconds: 60, vcpuSeconds: 60, gbSeconds: 120, extraStorageGbSeconds: 0 });
    // 60 s × (1 × 0.04048 + 2 × 0.004445) / 3600
    expect(cost.dollars).toBeCloseTo((60 * (0.04048 + 2 * 0.004445)) / 3600, 12);
  });

  it('bills per second past the minute, rounding a started second up', () => {
    expect(estimateCost(usage(60), NO_OVERRIDE).billedSeconds).toBe(60);
    expect(estimateCost(usage(60.001), NO_OVERRIDE).billedSeconds).toBe(61);
    expect(estimateCost(usage(900), NO_OVERRIDE).dollars).toBeCloseTo(0.25 * (0.04048 + 2 * 0.004445), 12);
  });

  it('prices Fargate Spot at the table\'s Spot rate (30% of on-demand)', () => {
    const onDemand = estimateCost(usage(600), NO_OVERRIDE).dollars as number;
    const spot = estimateCost(usage(600, { capacity: 'FARGATE_SPOT' }), NO_OVERRIDE);
    expect(spot.capacity).toBe('FARGATE_SPOT');
    expect(spot.dollars).toBeCloseTo(onDemand * 0.3, 9);
  });

  it('prices ARM at ARM rates', () => {
    expect(estimateCost(usage(3600, { architecture: 'ARM64' }), NO_OVERRIDE).dollars).toBeCloseTo(0.03238 + 2 * 0.00356, 12);
  });

  it('bills ephemeral storage only beyond the included 20 GiB', () => {
    const big = estimateCost(usage(3600, { ephemeralGiB: 50 }), NO_OVERRIDE);
    expect(big.extraStorageGbSeconds).toBe(30 * 3600);
    expect(big.dollars).toBeCloseTo(0.04048 + 2 * 0.004445 + 30 * 0.000111, 12);
    expect(estimateCost(usage(3600, { ephemeralGiB: 21 }), NO_OVERRIDE).extraStorageGbSeconds).toBe(3600);
  });

  it('names its source and date, and [Pricing] replaces a price and takes the discount off', () => {
    expect(estimateCost(usage(60), NO_OVERRIDE).source).toMatch(/^https:\/\/aws\.amazon\.com\/fargate\/pricing\/ .*, as of 2026-03-01$/);
    const negotiated = estimateCost(usage(3600), { vcpuHour: 0.03, discountPercent: 10, source: 'EDP 2026' });
    expect(negotiated.dollars).toBeCloseTo((0.03 + 2 * 0.004445) * 0.9, 12);
    expect(negotiated.source).toBe('EDP 2026, less 10%');
  });

  it('gives usage without dollars in a region the table lacks, naming the [Pricing] keys to set', () => {
    const cost = estimateCost(usage(120, { region: 'ap-southeast-7', capacity: 'FARGATE_SPOT', architecture: 'ARM64' }), NO_OVERRIDE);
    expect(cost).toMatchObject({ billedSeconds: 120, vcpuSeconds: 120, gbSeconds: 240 });
    expect(cost.dollars).toBeUndefined();
    expect(cost.missingKeys).toEqual(['ArmSpotVcpuHour', 'ArmSpotGbHour', 'EphemeralGbHour']);
    const priced = estimateCost(usage(3600, { region: 'ap-southeast-7' }), { vcpuHour: 0.05, gbHour: 0.005, ephemeralGbHour: 0.0002, discountPercent: 0 });
    expect(priced.dollars).toBeCloseTo(0.05 + 2 * 0.005, 12);
    expect(priced.source).toBe('[Pricing] in the driver TOML');
  });
});
