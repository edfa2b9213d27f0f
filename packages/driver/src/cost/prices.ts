/**
 * The built-in Fargate price table the driver's cost estimates use (Linux, on-demand, US dollars). The one place these
 * numbers live: `[Pricing]` in the driver TOML overrides them (see `resolvePrices` in `estimate.ts`), and a test checks that the
 * tables in the driver's README and in docs/ agree with this file.
 *
 * AWS's price page (https://aws.amazon.com/fargate/pricing/) is the authority; the driver cannot read it at run time,
 * so the table is a copy, with where each number was read and when. Fargate bills per second with a one-minute
 * minimum, from the start of the image pull until the task stops; 20 GiB of ephemeral storage are included.
 * A price no public source gave is left out rather than guessed: the job log then shows the usage and names the
 * `[Pricing]` key to set.
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

/** Where a price was read, and the date it was read or checked (ISO). */
export interface PriceSource {
  readonly name: string;
  readonly url: string;
  readonly asOf: string;
}

/** One price (or pair of compute prices) and where it comes from. */
export interface Sourced<T> {
  readonly value: T;
  readonly source: PriceSource;
}

/** One region's on-demand prices; a price without a public source is absent. */
export interface RegionPrices {
  readonly x86: Sourced<ComputeRates>;
  readonly arm?: Sourced<ComputeRates>;
  /** Per GB-hour of ephemeral storage beyond the included 20 GiB. */
  readonly ephemeralGbHour?: Sourced<number>;
}

/** AWS's page, which every estimate's documentation names. */
export const FARGATE_PRICING_URL = 'https://aws.amazon.com/fargate/pricing/';

/** Ephemeral storage every task gets without charge. */
export const INCLUDED_EPHEMERAL_GIB = 20;

/** Fargate's minimum charge per task. */
export const MINIMUM_BILLED_SECONDS = 60;

/**
 * Fargate Spot's price moves with supply and demand, by region and over time; AWS states it only as "up to a 70%
 * discount off the Fargate price" (https://aws.amazon.com/fargate/pricing/). No dated per-region Spot figure is in
 * the table, so Spot is estimated at 30% of the on-demand price (the deepest published discount; observed prices sit
 * near it, e.g. eu-west-1 at 67% off in 2020, https://tomgregory.com/aws/aws-fargate-spot-vs-fargate-price-comparison/).
 * The job log says so; the `Spot*` keys of `[Pricing]` replace the estimate with the live price.
 */
export const SPOT_SHARE_OF_ON_DEMAND = 0.3;

/** Where the table's prices were read: each source once, referenced by every price it gave. */
export const PRICE_SOURCES = {
  /**
   * x86 on-demand rates of 22 regions from fgcalc's data file; its README (commit 04ac5d8) says they were checked
   * against AWS's AmazonECS Price List Bulk API on 2026-09-29 and all matched (the offer was published 2026-09-11).
   */
  priceList: {
    name: "AWS's AmazonECS price list (offer of 2026-09-11) as checked by github.com/theuves/fgcalc",
    url: 'https://github.com/theuves/fgcalc/blob/main/src/utils/data.js',
    asOf: '2026-09-29',
  },
  /**
   * us-east-1 ARM and storage rates: vantage.sh's Fargate pricing article, and cloudburn.io's (AWS Price List API,
   * March 2026). AWS's us-east-1 AmazonECS offer of 2025-08-28, as committed in opencost's test data
   * (pkg/cloud/aws/testdata/ecs-pricing-us-east-1.json), gives the same three rates.
   */
  usEast1Articles: {
    name: 'vantage.sh and cloudburn.io (AWS Price List API)',
    url: 'https://www.vantage.sh/blog/fargate-pricing',
    asOf: '2026-03-01',
  },
  /**
   * eu-west-1 ARM and storage: rows of AWS's AmazonECS eu-west-1 offer (effective 2022-01-01) committed on 2022-08-18 as test
   * data of ligoj's AWS price importer. The same file gives eu-west-1 x86 at the fgcalc rates above.
   */
  euWest1Offer: {
    name: "AWS's AmazonECS price list for eu-west-1 (rows effective 2022-01-01) as copied into github.com/ligoj/plugin-prov-aws",
    url: 'https://github.com/ligoj/plugin-prov-aws/blob/fe58e0609d16339d7fc903169ee4bf09220ad191/src/test/resources/mock-server/aws/offers/v1.0/aws/AmazonECS/current/eu-west-1/index.csv',
    asOf: '2022-08-18',
  },
  /** ap-southeast-2 ARM: umccr/holmes's cost notes, read from AWS's Fargate pricing page for Sydney. */
  sydneyNotes: {
    name: "AWS's Fargate pricing page (Sydney) as noted in github.com/umccr/holmes",
    url: 'https://github.com/umccr/holmes/blob/2219f92fceb439a3aaca64ee68a86976209bc80e/docs/COSTS.md',
    asOf: '2023-02-20',
  },
  /** sa-east-1 ARM: a cost note read from AWS's Fargate pricing page (Portuguese) for São Paulo. */
  saoPauloNotes: {
    name: "AWS's Fargate pricing page (São Paulo) as noted in github.com/apoloferreira/basecode",
    url: 'https://github.com/apoloferreira/basecode/blob/9921248258c8c2aa1573970e59509763469a37de/doc/custo02.md',
    asOf: '2025-08-25',
  },
} as const satisfies Record<string, PriceSource>;

function x86(vcpuHour: number, gbHour: number): Sourced<ComputeRates> {
  return { value: { vcpuHour, gbHour }, source: PRICE_SOURCES.priceList };
}

function arm(vcpuHour: number, gbHour: number, source: PriceSource): Sourced<ComputeRates> {
  return { value: { vcpuHour, gbHour }, source };
}

function storage(gbHour: number, source: PriceSource): Sourced<number> {
  return { value: gbHour, source };
}

/**
 * The table: every region whose on-demand x86 price a dated public copy of AWS's price list gave (22 of the regions
 * Fargate runs in); ARM where a dated public source gave it (us-east-1, eu-west-1, ap-southeast-2, sa-east-1), and storage beyond
 * 20 GiB likewise (us-east-1, eu-west-1). Elsewhere `[Pricing]` `ArmVcpuHour`, `ArmGbHour` and `EphemeralGbHour`
 * supply them. A region not listed (e.g. ap-south-2, eu-central-2, il-central-1) needs `[Pricing]` for dollars.
 */
export const PRICE_TABLE: Readonly<Record<string, RegionPrices>> = {
  'af-south-1': { x86: x86(0.0546, 0.006) },
  'ap-east-1': { x86: x86(0.0556, 0.0061) },
  'ap-northeast-1': { x86: x86(0.05056, 0.00553) },
  'ap-northeast-2': { x86: x86(0.04656, 0.00511) },
  'ap-south-1': { x86: x86(0.04256, 0.004655) },
  'ap-southeast-1': { x86: x86(0.05056, 0.00553) },
  'ap-southeast-2': { x86: x86(0.04856, 0.00532), arm: arm(0.03885, 0.00426, PRICE_SOURCES.sydneyNotes) },
  'ca-central-1': { x86: x86(0.04456, 0.004865) },
  'eu-central-1': { x86: x86(0.04656, 0.00511) },
  'eu-north-1': { x86: x86(0.0445, 0.0049) },
  'eu-south-1': { x86: x86(0.0486, 0.0053) },
  'eu-west-1': {
    x86: x86(0.04048, 0.004445),
    arm: arm(0.03238, 0.00356, PRICE_SOURCES.euWest1Offer),
    ephemeralGbHour: storage(0.000122, PRICE_SOURCES.euWest1Offer),
  },
  'eu-west-2': { x86: x86(0.04656, 0.00511) },
  'eu-west-3': { x86: x86(0.0486, 0.0053) },
  'me-south-1': { x86: x86(0.0526, 0.0058) },
  'sa-east-1': { x86: x86(0.0696, 0.0076), arm: arm(0.0557, 0.00612, PRICE_SOURCES.saoPauloNotes) },
  'us-east-1': {
    x86: x86(0.04048, 0.004445),
    arm: arm(0.03238, 0.00356, PRICE_SOURCES.usEast1Articles),
    ephemeralGbHour: storage(0.000111, PRICE_SOURCES.usEast1Articles),
  },
  'us-east-2': { x86: x86(0.04048, 0.004445) },
  'us-gov-east-1': { x86: x86(0.0486, 0.0053) },
  'us-gov-west-1': { x86: x86(0.0486, 0.0053) },
  'us-west-1': { x86: x86(0.04656, 0.00511) },
  'us-west-2': { x86: x86(0.04048, 0.004445) },
};
