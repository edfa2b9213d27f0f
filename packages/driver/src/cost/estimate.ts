import type { PricingSettings } from '@gitlab-fargate/config';
import {
  type Architecture,
  type CapacityKind,
  type ComputeRates,
  INCLUDED_EPHEMERAL_GIB,
  MINIMUM_BILLED_SECONDS,
  PRICE_TABLE,
  type PriceSource,
  SPOT_SHARE_OF_ON_DEMAND,
  type Sourced,
} from './prices.js';

/** What a task was given and for how long: everything Fargate bills. */
export interface TaskUsage {
  /** CPU units (1024 = 1 vCPU). */
  readonly cpuUnits: number;
  readonly memoryMiB: number;
  /** Ephemeral storage of the task; the first 20 GiB are free. */
  readonly ephemeralGiB: number;
  readonly capacity: CapacityKind;
  readonly architecture: Architecture;
  /** The task's region (from its ARN); `undefined` when unknown. */
  readonly region?: string;
  /** Where billing starts (ms): the image pull's start, else when ECS created the task. */
  readonly billedFrom: number;
  /** Where it ends (ms): the task's stop, or now for "so far". */
  readonly until: number;
}

/** A job's cost: the resource usage Fargate bills, and dollars when prices are known. */
export interface CostEstimate {
  /** Seconds billed: the run time rounded up to the second, at least one minute. */
  readonly billedSeconds: number;
  readonly vcpuSeconds: number;
  readonly gbSeconds: number;
  /** GB-seconds of ephemeral storage beyond the included 20 GiB. */
  readonly extraStorageGbSeconds: number;
  readonly capacity: CapacityKind;
  readonly architecture: Architecture;
  /** US dollars; absent when no price is known for the region (then `missingKeys` names the `[Pricing]` keys). */
  readonly dollars?: number;
  /** Where the prices come from. */
  readonly source?: string;
  /** Fargate Spot priced at a share of on-demand (no Spot price known): the dollars are a rougher estimate. */
  readonly spotEstimated?: boolean;
  readonly missingKeys?: readonly string[];
}

/**
 * Fargate's bill for one task: per second, rounded up, with a one-minute minimum; vCPU and memory for the whole
 * time, ephemeral storage only beyond 20 GiB.
 */
export function estimateCost(usage: TaskUsage, pricing: PricingSettings): CostEstimate {
  const billedSeconds = Math.max(MINIMUM_BILLED_SECONDS, Math.ceil(Math.max(0, usage.until - usage.billedFrom) / 1000));
  const vcpuSeconds = (usage.cpuUnits / 1024) * billedSeconds;
  const gbSeconds = (usage.memoryMiB / 1024) * billedSeconds;
  const extraStorageGbSeconds = Math.max(0, usage.ephemeralGiB - INCLUDED_EPHEMERAL_GIB) * billedSeconds;
  const base = { billedSeconds, vcpuSeconds, gbSeconds, extraStorageGbSeconds, capacity: usage.capacity, architecture: usage.architecture };
  const prices = resolvePrices(usage.region, usage.capacity, usage.architecture, pricing, extraStorageGbSeconds > 0);
  if (!pricesKnown(prices)) return { ...base, missingKeys: prices.missingKeys };
  const dollars =
    (vcpuSeconds * prices.compute.vcpuHour + gbSeconds * prices.compute.gbHour + extraStorageGbSeconds * prices.ephemeralGbHour) / 3600;
  return { ...base, dollars, source: prices.source, ...(prices.spotEstimated ? { spotEstimated: true } : {}) };
}

/** The prices one estimate uses, after `[Pricing]`. */
interface AppliedPrices {
  readonly compute: ComputeRates;
  /** Per GB-hour of storage beyond 20 GiB; 0 when the task has no more than 20 GiB (then no price is needed). */
  readonly ephemeralGbHour: number;
  /** Shown with the estimate: the table's sources and dates, `[Pricing]`, or the config's `Source`. */
  readonly source: string;
  /** Fargate Spot priced as a share of on-demand ({@link SPOT_SHARE_OF_ON_DEMAND}) for want of a Spot price. */
  readonly spotEstimated: boolean;
}

/** Prices could not be decided: which `[Pricing]` keys would make them known. */
interface MissingPrices {
  readonly missingKeys: readonly string[];
}

type PriceKey = Exclude<keyof PricingSettings, 'discountPercent' | 'source'>;
interface KeyPair {
  readonly vcpu: PriceKey;
  readonly gb: PriceKey;
}

const KEYS: Record<CapacityKind, Record<Architecture, KeyPair>> = {
  FARGATE: { X86_64: { vcpu: 'vcpuHour', gb: 'gbHour' }, ARM64: { vcpu: 'armVcpuHour', gb: 'armGbHour' } },
  FARGATE_SPOT: { X86_64: { vcpu: 'spotVcpuHour', gb: 'spotGbHour' }, ARM64: { vcpu: 'armSpotVcpuHour', gb: 'armSpotGbHour' } },
};

/** TOML spelling of each `[Pricing]` key, for messages. */
const TOML_KEY: Record<PriceKey, string> = {
  vcpuHour: 'VcpuHour',
  gbHour: 'GbHour',
  armVcpuHour: 'ArmVcpuHour',
  armGbHour: 'ArmGbHour',
  spotVcpuHour: 'SpotVcpuHour',
  spotGbHour: 'SpotGbHour',
  armSpotVcpuHour: 'ArmSpotVcpuHour',
  armSpotGbHour: 'ArmSpotGbHour',
  ephemeralGbHour: 'EphemeralGbHour',
};

const CONFIG_SOURCE = '[Pricing] in the driver TOML';

/** One price as decided: its value (when known) and where it came from. */
interface Decided {
  readonly value?: number;
  readonly from?: PriceSource | typeof CONFIG_SOURCE;
  readonly estimated?: boolean;
}

function decide(configured: number | undefined, table: Sourced<number> | undefined): Decided {
  if (configured !== undefined) return { value: configured, from: CONFIG_SOURCE };
  return table === undefined ? {} : { value: table.value, from: table.source };
}

/** A Spot price: `[Pricing]`'s Spot key, else the on-demand price times the Spot share (an estimate). */
function spotOf(configured: number | undefined, onDemand: Decided): Decided {
  if (configured !== undefined) return { value: configured, from: CONFIG_SOURCE };
  if (onDemand.value === undefined) return {};
  return { ...onDemand, value: onDemand.value * SPOT_SHARE_OF_ON_DEMAND, estimated: true };
}

function computePrices(region: string | undefined, capacity: CapacityKind, architecture: Architecture, pricing: PricingSettings) {
  const table = region === undefined ? undefined : PRICE_TABLE[region];
  const rates = architecture === 'ARM64' ? table?.arm : table?.x86;
  const onDemandKeys = KEYS.FARGATE[architecture];
  const part = (key: 'vcpuHour' | 'gbHour') => (rates === undefined ? undefined : { value: rates.value[key], source: rates.source });
  const vcpu = decide(pricing[onDemandKeys.vcpu], part('vcpuHour'));
  const gb = decide(pricing[onDemandKeys.gb], part('gbHour'));
  if (capacity === 'FARGATE') return { vcpu, gb };
  const spotKeys = KEYS.FARGATE_SPOT[architecture];
  return { vcpu: spotOf(pricing[spotKeys.vcpu], vcpu), gb: spotOf(pricing[spotKeys.gb], gb) };
}

function describe(from: PriceSource | typeof CONFIG_SOURCE): string {
  return typeof from === 'string' ? from : `${from.name}, ${from.url}, as of ${from.asOf}`;
}

/**
 * The prices for a task in `region` placed on `capacity` with `architecture`: the built-in table's, each replaced by
 * its `[Pricing]` key when set, then less `[Pricing] Discount`. Fargate Spot without a `[Pricing]` Spot price is
 * estimated from on-demand. Storage needs a price only when the task has more than 20 GiB (`needsStorage`). A price
 * neither the table nor `[Pricing]` has makes the answer name the keys to set.
 */
function resolvePrices(
  region: string | undefined,
  capacity: CapacityKind,
  architecture: Architecture,
  pricing: PricingSettings,
  needsStorage: boolean,
): AppliedPrices | MissingPrices {
  const { vcpu, gb } = computePrices(region, capacity, architecture, pricing);
  const table = region === undefined ? undefined : PRICE_TABLE[region];
  const storage: Decided = needsStorage ? decide(pricing.ephemeralGbHour, table?.ephemeralGbHour) : { value: 0 };
  const keys = KEYS[capacity][architecture];
  const missing = [
    vcpu.value === undefined ? keys.vcpu : undefined,
    gb.value === undefined ? keys.gb : undefined,
    storage.value === undefined ? 'ephemeralGbHour' : undefined,
  ].filter((key): key is PriceKey => key !== undefined);
  if (vcpu.value === undefined || gb.value === undefined || storage.value === undefined) {
    return { missingKeys: missing.map((key) => TOML_KEY[key]) };
  }
  const factor = 1 - pricing.discountPercent / 100;
  const origins = [...new Set([vcpu.from, gb.from, storage.from].filter((from) => from !== undefined).map(describe))];
  const base = pricing.source ?? origins.join('; ');
  return {
    compute: { vcpuHour: vcpu.value * factor, gbHour: gb.value * factor },
    ephemeralGbHour: storage.value * factor,
    source: pricing.discountPercent > 0 ? `${base}, less ${pricing.discountPercent}%` : base,
    spotEstimated: vcpu.estimated === true || gb.estimated === true,
  };
}

/** Whether {@link resolvePrices} found prices. */
function pricesKnown(prices: AppliedPrices | MissingPrices): prices is AppliedPrices {
  return 'compute' in prices;
}
