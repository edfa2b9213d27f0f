import { decimal, refine, section, string, type Schema } from '../../schema/schema.js';
import type { PricingSettings } from '../model.js';

/** A price in US dollars per unit-hour; generous upper bound, so a typo like 4048 (for 0.04048) is caught. */
const price = decimal({ min: 0, max: 10, expected: 'US dollars per unit-hour, from 0 to 10 (e.g. 0.04048)' });

interface PricingRaw extends Omit<PricingSettings, 'source'> {
  source: string;
}

/**
 * `[Pricing]`: what the driver's cost estimates use instead of its built-in price table (negotiated prices, or a
 * region the table does not have). Every price is for the driver's region; a key left out keeps the table's.
 */
export const pricing: Schema<PricingSettings> = refine(
  section<PricingRaw>(
    {
      vcpuHour: { key: 'VcpuHour', schema: price },
      gbHour: { key: 'GbHour', schema: price },
      armVcpuHour: { key: 'ArmVcpuHour', schema: price },
      armGbHour: { key: 'ArmGbHour', schema: price },
      spotVcpuHour: { key: 'SpotVcpuHour', schema: price },
      spotGbHour: { key: 'SpotGbHour', schema: price },
      armSpotVcpuHour: { key: 'ArmSpotVcpuHour', schema: price },
      armSpotGbHour: { key: 'ArmSpotGbHour', schema: price },
      ephemeralGbHour: { key: 'EphemeralGbHour', schema: price },
      discountPercent: { key: 'Discount', schema: decimal({ min: 0, max: 100, expected: 'a percentage from 0 to 100' }), default: 0 },
      source: { key: 'Source', schema: string({ minLength: 0, maxLength: 200, expected: 'a short note on where the prices come from' }), default: '' },
    },
    { expected: 'a [Pricing] table of US dollar prices' },
  ),
  ({ source, ...prices }): PricingSettings => (source === '' ? prices : { ...prices, source }),
);
