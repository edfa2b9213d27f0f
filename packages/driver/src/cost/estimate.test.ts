import { describe, expect, it } from 'vitest';
import { type TaskUsage, estimateCost } from './estimate.js';

const NO_OVERRIDE = { discountPercent: 0 };
const T0 = Date.parse('2026-12-03T04:00:00.000Z');
/** us-east-1 list prices (the table's; see prices.ts for the sources). */
const X86 = { vcpu: 0.04048, gb: 0.004445 };
const ARM = { vcpu: 0.03238, gb: 0.00356 };
const STORAGE = 0.000111;

/** 1 vCPU / 2 GB / 20 GiB on-demand x86 in us-east-1, billed from T0 for `seconds`. */
function usage(seconds: number, change: Partial<TaskUsage> = {}): TaskUsage {
  return {
    cpuUnits: 1024, memoryMiB: 2048, ephemeralGiB: 20, capacity: 'FARGATE', architecture: 'X86_64', region: 'us-east-1',
    billedFrom: T0, until: T0 + seconds * 1000, ...change,
  };
}

describe('estimateCost: the one-minute minimum and per-second billing', () => {
  it('bills a job shorter than a minute as one minute', () => {
    const cost = estimateCost(usage(12.3), NO_OVERRIDE);
    expect(cost).toMatchObject({ billedSeconds: 60, vcpuSeconds: 60, gbSeconds: 120, extraStorageGbSeconds: 0 });
    expect(cost.dollars).toBeCloseTo((60 * (X86.vcpu + 2 * X86.gb)) / 3600, 12);
  });

  it('bills per second past the minute, rounding a started second up', () => {
    expect(estimateCost(usage(59.999), NO_OVERRIDE).billedSeconds).toBe(60);
    expect(estimateCost(usage(60), NO_OVERRIDE).billedSeconds).toBe(60);
    expect(estimateCost(usage(60.001), NO_OVERRIDE).billedSeconds).toBe(61);
    expect(estimateCost(usage(900), NO_OVERRIDE).dollars).toBeCloseTo(0.25 * (X86.vcpu + 2 * X86.gb), 12);
  });
});

describe('estimateCost: architecture, region and storage', () => {
  it('prices ARM at ARM rates where they differ from x86 (us-east-1)', () => {
    const arm = estimateCost(usage(3600, { architecture: 'ARM64' }), NO_OVERRIDE);
    const x86 = estimateCost(usage(3600), NO_OVERRIDE);
    expect(arm.dollars).toBeCloseTo(ARM.vcpu + 2 * ARM.gb, 12);
    expect(x86.dollars).toBeCloseTo(X86.vcpu + 2 * X86.gb, 12);
    expect(arm.dollars as number).toBeLessThan(x86.dollars as number);
  });

  it('prices x86 in another region at that region\'s rate, and gives ARM there no price the table lacks', () => {
    // eu-central-1 x86: $0.04656 per vCPU-hour, $0.00511 per GB-hour; no public source gave its ARM price.
    expect(estimateCost(usage(3600, { region: 'eu-central-1' }), NO_OVERRIDE).dollars).toBeCloseTo(0.04656 + 2 * 0.00511, 12);
    const arm = estimateCost(usage(3600, { region: 'eu-central-1', architecture: 'ARM64' }), NO_OVERRIDE);
    expect(arm.dollars).toBeUndefined();
    expect(arm.missingKeys).toEqual(['ArmVcpuHour', 'ArmGbHour']);
  });

  it('prices ARM outside us-east-1 where a dated source gave the region\'s ARM price, and names that source', () => {
    // sa-east-1 ARM $0.0557 / $0.00612 (x86 $0.0696 / $0.0076); ap-southeast-2 ARM $0.03885 / $0.00426.
    const saoPaulo = estimateCost(usage(3600, { region: 'sa-east-1', architecture: 'ARM64' }), NO_OVERRIDE);
    expect(saoPaulo.dollars).toBeCloseTo(0.0557 + 2 * 0.00612, 12);
    expect(saoPaulo.source).toBe(
      "AWS's Fargate pricing page (São Paulo) as noted in github.com/apoloferreira/basecode, " +
        'https://github.com/apoloferreira/basecode/blob/9921248258c8c2aa1573970e59509763469a37de/doc/custo02.md, as of 2025-08-25',
    );
    expect(saoPaulo.dollars as number).toBeLessThan(estimateCost(usage(3600, { region: 'sa-east-1' }), NO_OVERRIDE).dollars as number);
    const sydney = estimateCost(usage(3600, { region: 'ap-southeast-2', architecture: 'ARM64', capacity: 'FARGATE_SPOT' }), NO_OVERRIDE);
    expect(sydney).toMatchObject({ spotEstimated: true });
    expect(sydney.dollars).toBeCloseTo((0.03885 + 2 * 0.00426) * 0.3, 12);
  });

  it('bills ephemeral storage only beyond the included 20 GiB', () => {
    expect(estimateCost(usage(3600, { ephemeralGiB: 20 }), NO_OVERRIDE).extraStorageGbSeconds).toBe(0);
    expect(estimateCost(usage(3600, { ephemeralGiB: 21 }), NO_OVERRIDE).extraStorageGbSeconds).toBe(3600);
    const big = estimateCost(usage(3600, { ephemeralGiB: 50 }), NO_OVERRIDE);
    expect(big.extraStorageGbSeconds).toBe(30 * 3600);
    expect(big.dollars).toBeCloseTo(X86.vcpu + 2 * X86.gb + 30 * STORAGE, 12);
  });

  it('bills storage beyond 20 GiB at the region\'s own rate where the table has one (eu-west-1)', () => {
    // eu-west-1 storage: $0.000122 per GB-hour (us-east-1's is $0.000111); x86 as in us-east-1.
    const included = estimateCost(usage(3600, { region: 'eu-west-1', ephemeralGiB: 20 }), NO_OVERRIDE);
    expect(included.dollars).toBeCloseTo(X86.vcpu + 2 * X86.gb, 12);
    const big = estimateCost(usage(3600, { region: 'eu-west-1', ephemeralGiB: 21 }), NO_OVERRIDE);
    expect(big.dollars).toBeCloseTo(X86.vcpu + 2 * X86.gb + 0.000122, 12);
    expect(big.source).toMatch(/as of 2026-09-29; AWS's AmazonECS price list for eu-west-1 \(rows effective 2022-01-01\) .*, as of 2022-08-18$/);
  });

  it('needs a storage price only for a task with more than 20 GiB', () => {
    // eu-central-1 has an x86 price but no storage price in the table.
    expect(estimateCost(usage(3600, { region: 'eu-central-1' }), NO_OVERRIDE).dollars).toBeCloseTo(0.04656 + 2 * 0.00511, 12);
    const big = estimateCost(usage(3600, { region: 'eu-central-1', ephemeralGiB: 21 }), NO_OVERRIDE);
    expect(big.dollars).toBeUndefined();
    expect(big.missingKeys).toEqual(['EphemeralGbHour']);
  });

  it('gives usage without dollars in a region the table lacks, naming the [Pricing] keys to set', () => {
    const cost = estimateCost(usage(120, { region: 'ap-southeast-7', capacity: 'FARGATE_SPOT', architecture: 'ARM64', ephemeralGiB: 30 }), NO_OVERRIDE);
    expect(cost).toMatchObject({ billedSeconds: 120, vcpuSeconds: 120, gbSeconds: 240, extraStorageGbSeconds: 1200 });
    expect(cost.dollars).toBeUndefined();
    expect(cost.missingKeys).toEqual(['ArmSpotVcpuHour', 'ArmSpotGbHour', 'EphemeralGbHour']);
    expect(estimateCost(usage(120, { region: undefined }), NO_OVERRIDE).missingKeys).toEqual(['VcpuHour', 'GbHour']);
  });
});

describe('estimateCost: Fargate Spot', () => {
  it('estimates Spot at 30% of on-demand, and says it is an estimate', () => {
    const onDemand = estimateCost(usage(600), NO_OVERRIDE);
    const spot = estimateCost(usage(600, { capacity: 'FARGATE_SPOT' }), NO_OVERRIDE);
    expect(spot).toMatchObject({ capacity: 'FARGATE_SPOT', spotEstimated: true });
    expect(spot.dollars).toBeCloseTo((onDemand.dollars as number) * 0.3, 12);
    expect(onDemand.spotEstimated).toBeUndefined();
  });

  it('uses the [Pricing] Spot price when set, and then is no rough estimate', () => {
    const spot = estimateCost(usage(3600, { capacity: 'FARGATE_SPOT' }), { spotVcpuHour: 0.0128, spotGbHour: 0.0014, discountPercent: 0 });
    expect(spot.dollars).toBeCloseTo(0.0128 + 2 * 0.0014, 12);
    expect(spot.spotEstimated).toBeUndefined();
    expect(spot.source).toBe('[Pricing] in the driver TOML');
  });
});

describe('estimateCost: sources and [Pricing]', () => {
  it('names the source and date of every table price it used', () => {
    expect(estimateCost(usage(60), NO_OVERRIDE).source).toBe(
      "AWS's AmazonECS price list (offer of 2026-09-11) as checked by github.com/theuves/fgcalc, " +
        'https://github.com/theuves/fgcalc/blob/main/src/utils/data.js, as of 2026-09-29',
    );
    expect(estimateCost(usage(60, { ephemeralGiB: 30 }), NO_OVERRIDE).source).toMatch(
      /as of 2026-09-29; vantage\.sh and cloudburn\.io \(AWS Price List API\), https:\/\/www\.vantage\.sh\/blog\/fargate-pricing, as of 2026-03-01$/,
    );
  });

  it('takes a [Pricing] price over the table\'s, the discount off all of them, and its Source as the source', () => {
    const negotiated = estimateCost(usage(3600), { vcpuHour: 0.03, discountPercent: 10, source: 'EDP 2026' });
    expect(negotiated.dollars).toBeCloseTo((0.03 + 2 * X86.gb) * 0.9, 12);
    expect(negotiated.source).toBe('EDP 2026, less 10%');
    const mixed = estimateCost(usage(3600), { vcpuHour: 0.03, discountPercent: 0 });
    expect(mixed.source).toMatch(/^\[Pricing\] in the driver TOML; AWS's AmazonECS price list /);
  });

  it('prices a region the table lacks from [Pricing], Spot there estimated from the configured on-demand price', () => {
    const config = { vcpuHour: 0.05, gbHour: 0.005, ephemeralGbHour: 0.0002, discountPercent: 0 };
    const priced = estimateCost(usage(3600, { region: 'ap-southeast-7', ephemeralGiB: 30 }), config);
    expect(priced.dollars).toBeCloseTo(0.05 + 2 * 0.005 + 10 * 0.0002, 12);
    expect(priced.source).toBe('[Pricing] in the driver TOML');
    const spot = estimateCost(usage(3600, { region: 'ap-southeast-7', capacity: 'FARGATE_SPOT' }), config);
    expect(spot).toMatchObject({ spotEstimated: true });
    expect(spot.dollars).toBeCloseTo((0.05 + 2 * 0.005) * 0.3, 12);
  });
});
