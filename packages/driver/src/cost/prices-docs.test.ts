import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { estimateCost } from './estimate.js';
import { PRICE_SOURCES, PRICE_TABLE, type ComputeRates } from './prices.js';

/** The price table lives in prices.ts; the driver README, docs/arm64.md and docs/deploy.md quote it and must agree. */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const arm64Doc = readFileSync(new URL('../../../../docs/arm64.md', import.meta.url), 'utf8');
const deployDoc = readFileSync(new URL('../../../../docs/deploy.md', import.meta.url), 'utf8');

const dollars = (text: string) => Number(text.replace('$', ''));

function readmeRows(): Map<string, string[]> {
  const start = readme.indexOf('| Region | x86 vCPU-h / GB-h | ARM vCPU-h / GB-h | storage GB-h |');
  expect(start, 'the README has the price table').toBeGreaterThan(0);
  const block = readme.slice(start).split('\n\n')[0]!.split('\n').slice(2);
  return new Map(block.map((line) => line.split('|').map((cell) => cell.trim()).slice(1, -1)).map(([region, ...rest]) => [region!, rest]));
}

function pair(cell: string): ComputeRates | undefined {
  if (cell === '–') return undefined;
  const [vcpuHour, gbHour] = cell.split(' / ').map(dollars);
  return { vcpuHour: vcpuHour!, gbHour: gbHour! };
}

describe('the price table has one home', () => {
  it('the driver README lists exactly the table\'s regions and prices', () => {
    const rows = readmeRows();
    expect([...rows.keys()]).toEqual(Object.keys(PRICE_TABLE));
    for (const [region, prices] of Object.entries(PRICE_TABLE)) {
      const [x86, arm, storage] = rows.get(region)!;
      expect(pair(x86!), region).toEqual(prices.x86.value);
      expect(pair(arm!), region).toEqual(prices.arm?.value);
      expect(storage === '–' ? undefined : dollars(storage!), region).toEqual(prices.ephemeralGbHour?.value);
    }
  });

  it('the README names every source\'s address and date', () => {
    for (const source of Object.values(PRICE_SOURCES)) {
      expect(readme).toContain(source.url);
      expect(readme).toContain(source.asOf.slice(0, 7) === '2026-03' ? 'March 2026' : source.asOf);
    }
  });

  it('docs/arm64.md quotes the us-east-1 prices and the costs they give', () => {
    const usEast1 = PRICE_TABLE['us-east-1']!;
    const quoted = arm64Doc.replace(/\s+/g, ' ');
    expect(quoted).toContain(`x86 $${usEast1.x86.value.vcpuHour} per vCPU-hour and $${usEast1.x86.value.gbHour} per GB-hour`);
    expect(quoted).toContain(`ARM $${usEast1.arm!.value.vcpuHour} and $${usEast1.arm!.value.gbHour}`);
    // "a 15-minute job on 2 vCPU and 4 GB costs": on-demand, then Spot, x86 and ARM.
    const job = { cpuUnits: 2048, memoryMiB: 4096, ephemeralGiB: 20, region: 'us-east-1', billedFrom: 0, until: 900_000 } as const;
    // Rounded half up to 4 places, as the doc writes them ($0.01975 → $0.0198; toFixed would see 0.019749999…).
    const cost = (capacity: 'FARGATE' | 'FARGATE_SPOT', architecture: 'X86_64' | 'ARM64') =>
      `$${(Math.round((estimateCost({ ...job, capacity, architecture }, { discountPercent: 0 }).dollars as number) * 1e4 + 1e-6) / 1e4).toFixed(4)}`;
    expect(quoted).toContain(`| on-demand | ${cost('FARGATE', 'X86_64')} | ${cost('FARGATE', 'ARM64')} |`);
    expect(quoted).toContain(`| ${cost('FARGATE_SPOT', 'X86_64')} | ${cost('FARGATE_SPOT', 'ARM64')} |`);
  });

  it('docs/arm64.md names exactly the regions the table has an ARM price for', () => {
    const armRegions = Object.entries(PRICE_TABLE).filter(([, prices]) => prices.arm !== undefined).map(([region]) => region);
    const named = /has a sourced ARM price for (.+?) \(the driver README/.exec(arm64Doc.replace(/\s+/g, ' '))?.[1];
    expect(named?.split(/, | and /).sort()).toEqual(armRegions.sort());
  });
});

describe('docs/deploy.md', () => {
  it('prices the manager and the jobs at the table\'s us-east-1 x86 rates', () => {
    const { vcpuHour, gbHour } = PRICE_TABLE['us-east-1']!.x86.value;
    expect(deployDoc).toContain(`730 h × (0.25 × $${vcpuHour} + 0.5 × $${gbHour})`);
    expect(deployDoc).toContain(`500 × 1/6 h × (1 × $${vcpuHour} + 2 × $${gbHour})`);
  });
});

describe('the price table itself', () => {
  it('gives every price a positive value below the config\'s bound, and ARM below x86 where both are known', () => {
    for (const [region, prices] of Object.entries(PRICE_TABLE)) {
      const { x86, arm, ephemeralGbHour } = prices;
      const all = [x86.value.vcpuHour, x86.value.gbHour, arm?.value.vcpuHour, arm?.value.gbHour, ephemeralGbHour?.value];
      for (const price of all.filter((p) => p !== undefined)) expect(price, region).toBeGreaterThan(0);
      for (const price of all.filter((p) => p !== undefined)) expect(price, region).toBeLessThan(1);
      if (prices.arm) expect(prices.arm.value.vcpuHour, region).toBeLessThan(prices.x86.value.vcpuHour);
      expect(prices.x86.value.gbHour, `${region}: memory costs less than a vCPU`).toBeLessThan(prices.x86.value.vcpuHour);
    }
  });

  it('takes every price\'s source from PRICE_SOURCES, and uses every source there', () => {
    const sources = new Set<object>(Object.values(PRICE_SOURCES));
    const used = new Set<object>();
    for (const [region, prices] of Object.entries(PRICE_TABLE)) {
      for (const sourced of [prices.x86, prices.arm, prices.ephemeralGbHour].filter((p) => p !== undefined)) {
        expect(sources.has(sourced.source), `${region}: ${sourced.source.name}`).toBe(true);
        used.add(sourced.source);
      }
    }
    expect(used.size).toBe(sources.size);
  });

  it('dates every source and gives its address', () => {
    for (const source of Object.values(PRICE_SOURCES)) {
      expect(source.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(source.url).toMatch(/^https:\/\//);
    }
  });
});
