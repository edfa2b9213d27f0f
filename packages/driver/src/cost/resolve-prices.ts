import type { PricingSettings } from '@gitlab-fargate/config';
import {
  type Architecture,
  type CapacityKind,
  type ComputeRates,
  PRICE_TABLE,
  type PriceSource,
  SPOT_SHARE_OF_ON_DEMAND,
  type Sourced,
} from './prices.js';

/** The prices one estimate uses, after `[Pricing]`. */
export interface AppliedPrices {
  readonly compute: ComputeRates;
  /** Per GB-hour of storage beyond 20 GiB; 0 when the task has no more than 20 GiB (then no price is needed). */
  readonly ephemeralGbHour: number;
  /** Shown with the estimate: the table's sources and dates, `[Pricing]`, or the config's `Source`. */
  readonly source: string;
  /** Fargate Spot priced as a share of on-demand ({@link SPOT_SHARE_OF_ON_DEMAND}) for want of a Spot price. */
  readonly spotEstimated: boolean;
}

/** Prices could not be decided: which `[Pricing]` keys would make them known. */
export interface MissingPrices {
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
export function resolvePrices(
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
export function pricesKnown(prices: AppliedPrices | MissingPrices): prices is AppliedPrices {
  return 'compute' in prices;
}
