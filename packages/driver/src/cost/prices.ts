/**
 * The built-in Fargate price table the driver's cost estimates use (Linux, US dollars). The one place these numbers
 * live: `[Pricing]` in the driver TOML overrides them (see `resolve-prices.ts`).
 *
 * AWS's price page (https://aws.amazon.com/fargate/pricing/) is the authority; the driver cannot read it at run time,
 * so the table is a copy, with where each number was read and when. Fargate bills per second with a one-minute
 * minimum, from the start of the image pull until the task stops; 20 GiB of ephemeral storage are included.
 */

/** CPU architecture of a task, as ECS names it. */
export type Architecture = 'X86_64' | 'ARM64';

/** How the task was placed: on-demand or Fargate Spot. */
export type CapacityKind = 'FARGATE' | 'FARGATE_SPOT';

/** US dollars per vCPU-hour and per GB-hour of memory. */
export interface ComputeRates {
  readonly vcpuHour: number;
  readonly gbHour: number;
}

/** One region's prices. */
export interface RegionPrices {
  readonly rates: { readonly [C in CapacityKind]: { readonly [A in Architecture]: ComputeRates } };
  /** Per GB-hour of ephemeral storage beyond the included 20 GiB. */
  readonly ephemeralGbHour: number;
  /** Where the numbers were read, and when (an ISO date where the source gives one). */
  readonly source: string;
  readonly asOf: string;
}

/** AWS's page, which every estimate names. */
export const FARGATE_PRICING_URL = 'https://aws.amazon.com/fargate/pricing/';

/** Ephemeral storage every task gets without charge. */
export const INCLUDED_EPHEMERAL_GIB = 20;

/** Fargate's minimum charge per task. */
export const MINIMUM_BILLED_SECONDS = 60;

/**
 * Fargate Spot's price moves with supply and demand; AWS states it as "up to a 70% discount off the Fargate price".
 * The table therefore prices Spot at 30% of on-demand: the deepest published discount, close to what was observed
 * (eu-west-1, 2020: $0.01334053 per vCPU-hour, 67% off, https://tomgregory.com/aws/aws-fargate-spot-vs-fargate-price-comparison/).
 * Set the `Spot*` keys of `[Pricing]` to the live Spot price for exact figures.
 */
export const SPOT_SHARE_OF_ON_DEMAND = 0.3;

/** On-demand rates of the regions whose prices were found, x86 and ARM. */
function region(x86: ComputeRates, arm: ComputeRates, ephemeralGbHour: number, source: string, asOf: string): RegionPrices {
  const spot = (rates: ComputeRates): ComputeRates => ({
    vcpuHour: round(rates.vcpuHour * SPOT_SHARE_OF_ON_DEMAND),
    gbHour: round(rates.gbHour * SPOT_SHARE_OF_ON_DEMAND),
  });
  const rates = { FARGATE: { X86_64: x86, ARM64: arm }, FARGATE_SPOT: { X86_64: spot(x86), ARM64: spot(arm) } };
  return { rates, ephemeralGbHour, source, asOf };
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/**
 * The table. Only regions whose prices could be read from a dated public copy of AWS's page are listed; any other
 * region gets resource usage without dollars until `[Pricing]` gives its prices.
 *
 * - us-east-1: x86 $0.04048/vCPU-h, $0.004445/GB-h; ARM $0.03238, $0.00356; storage $0.000111/GB-h
 *   (https://www.vantage.sh/blog/fargate-pricing, and https://cloudburn.io/blog/aws-fargate-pricing "as of March 2026",
 *   which reads AWS's Price List API; https://fortem.dev/fargate-spot/ "verified June 2026" for the on-demand rates).
 * - eu-west-1: the same x86 rates (https://tomgregory.com/aws/aws-fargate-spot-vs-fargate-price-comparison/, which
 *   priced eu-west-1); ARM and storage taken to follow us-east-1 as they do for x86 (an assumption: override it).
 */
export const PRICE_TABLE: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': region(
    { vcpuHour: 0.04048, gbHour: 0.004445 },
    { vcpuHour: 0.03238, gbHour: 0.00356 },
    0.000111,
    `${FARGATE_PRICING_URL} (us-east-1 list prices as published by vantage.sh and cloudburn.io, March 2026)`,
    '2026-03-01',
  ),
  'eu-west-1': region(
    { vcpuHour: 0.04048, gbHour: 0.004445 },
    { vcpuHour: 0.03238, gbHour: 0.00356 },
    0.000111,
    `${FARGATE_PRICING_URL} (eu-west-1 x86 list prices as published by tomgregory.com; ARM and storage as us-east-1)`,
    'an unknown date, 2020 or later',
  ),
};
