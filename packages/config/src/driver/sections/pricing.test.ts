import { describe, expect, it } from 'vitest';
import { issuesOf } from '../../test-support.js';
import { parseDriverConfig } from '../parse.js';
import { renderDriverConfig } from '../render.js';

const BASE = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n';

describe('[Pricing]', () => {
  it('reads negotiated prices, a discount and their source; keys left out stay unset (the built-in table applies)', () => {
    const text = `${BASE}[Pricing]\nVcpuHour = 0.035\narmgbhour = 0.003\nDiscount = 12.5\nSource = "EDP contract 2026"\n`;
    const { config } = parseDriverConfig(text, { file: 'f.toml' });
    expect(config.pricing).toEqual({ vcpuHour: 0.035, armGbHour: 0.003, discountPercent: 12.5, source: 'EDP contract 2026' });
    expect(parseDriverConfig(renderDriverConfig(config), { file: 'rendered.toml' }).config.pricing).toEqual(config.pricing);
  });

  it('defaults to no override and no discount', () => {
    expect(parseDriverConfig(BASE, { file: 'f.toml' }).config.pricing).toEqual({ discountPercent: 0 });
  });

  it('refuses a price that is not dollars per hour, and a discount over 100, naming the key and line', () => {
    const text = `${BASE}[Pricing]\nVcpuHour = 4048\nDiscount = 120\nGbHour = "cheap"\n`;
    expect(issuesOf(() => parseDriverConfig(text, { file: 'f.toml' }))).toEqual([
      'f.toml:6:1: error: Pricing.VcpuHour: expected US dollars per unit-hour, from 0 to 10 (e.g. 0.04048), found 4048 (an integer)',
      'f.toml:7:1: error: Pricing.Discount: expected a percentage from 0 to 100, found 120 (an integer)',
      'f.toml:8:1: error: Pricing.GbHour: expected US dollars per unit-hour, from 0 to 10 (e.g. 0.04048), found "cheap"',
    ]);
  });
});
