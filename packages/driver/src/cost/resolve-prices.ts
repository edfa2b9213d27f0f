import type { PricingSettings } from '@gitlab-fargate/config';
import { type Architecture, type CapacityKind, type ComputeRates, PRICE_TABLE } from './prices.js';

/** The prices one estimate uses, after `[Pricing]`. */
export interface AppliedPrices {
  readonly compute: ComputeRates;
  readonly ephemeralGbHour: number;
  /** Shown with the estimate: the table's source and date, or the config's `Source`. */
  readonly source: string;
}

/** Prices could not be decided: which `[Pricing]` keys would make them known. */
export interface MissingPrices {
  readonly missingKeys: readonly string[];
}

const KEYS: Record<CapacityKind, Record<Architecture, { vcpu: keyof PricingSettings; gb: keyof PricingSettings }>> = {
  FARGATE: { X86_64: { vcpu: 'vcpuHour', gb: 'gbHour' }, ARM64: { vcpu: 'armVcpuHour', gb: 'armGbHour' } },
  FARGATE_SPOT: { X86_64: { vcpu: 'spotVcpuHour', gb: 'spotGbHour' }, ARM64: { vcpu: 'armSpotVcpuHour', gb: 'armSpotGbHour' } },
};

/** TOML spelling of each `[Pricing]` key, for messages. */
const TOML_KEY: Partial<Record<keyof PricingSettings, string>> = {
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

/**
 * The prices for a task in `region` placed on `capacity` with `architecture`: the built-in table's, each replaced by
 * its `[Pricing]` key when set, then less `[Pricing] Discount`. A region the table lacks needs all three prices in
 * `[Pricing]`; without them the answer names the missing keys.
 */
export function resolvePrices(
  region: string | undefined,
  capacity: CapacityKind,
  architecture: Architecture,
  pricing: PricingSettings,
): AppliedPrices | MissingPrices {
  const table = region === undefined ? undefined : PRICE_TABLE[region];
  const keys = KEYS[capacity][architecture];
  const vcpuHour = (pricing[keys.vcpu] as number | undefined) ?? table?.rates[capacity][architecture].vcpuHour;
  const gbHour = (pricing[keys.gb] as number | undefined) ?? table?.rates[capacity][architecture].gbHour;
  const ephemeralGbHour = pricing.ephemeralGbHour ?? table?.ephemeralGbHour;
  if (vcpuHour === undefined || gbHour === undefined || ephemeralGbHour === undefined) {
    const missing = [
      vcpuHour === undefined ? keys.vcpu : undefined,
      gbHour === undefined ? keys.gb : undefined,
      ephemeralGbHour === undefined ? 'ephemeralGbHour' : undefined,
    ].filter((key): key is keyof PricingSettings => key !== undefined);
    return { missingKeys: missing.map((key) => TOML_KEY[key] ?? key) };
  }
  const factor = 1 - pricing.discountPercent / 100;
  const overridden = pricing[keys.vcpu] !== undefined || pricing[keys.gb] !== undefined || pricing.ephemeralGbHour !== undefined;
  const base = pricing.source ?? (overridden || table === undefined ? '[Pricing] in the driver TOML' : `${table.source}, as of ${table.asOf}`);
  const source = pricing.discountPercent > 0 ? `${base}, less ${pricing.discountPercent}%` : base;
  return { compute: { vcpuHour: vcpuHour * factor, gbHour: gbHour * factor }, ephemeralGbHour: ephemeralGbHour * factor, source };
}

/** Whether {@link resolvePrices} found prices. */
export function pricesKnown(prices: AppliedPrices | MissingPrices): prices is AppliedPrices {
  return 'compute' in prices;
}
