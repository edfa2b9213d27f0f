import { ECS_LIMITS, FARGATE_CAPACITY_PROVIDERS } from '../../aws/shapes.js';
import { element, type At, type Checker } from '../../schema/checker.js';
import { integer, list, refine, section, string, type Schema } from '../../schema/schema.js';
import type { CapacityProviderStrategyItem } from '../model.js';

const strategyItem = section<CapacityProviderStrategyItem>(
  {
    capacityProvider: { key: 'CapacityProvider', schema: string({ oneOf: FARGATE_CAPACITY_PROVIDERS }) as Schema<CapacityProviderStrategyItem['capacityProvider']>, required: true },
    weight: { key: 'Weight', schema: integer({ min: 0, max: ECS_LIMITS.maxCapacityProviderWeight }), default: 1 },
    base: { key: 'Base', schema: integer({ min: 0, max: ECS_LIMITS.maxCapacityProviderBase }), default: 0 },
  },
  { expected: 'a table with CapacityProvider, Weight and Base' },
);

/** ECS's own rules for a strategy, checked here so a bad one fails at startup rather than in every job. */
function checkStrategy(items: CapacityProviderStrategyItem[], at: At, checker: Checker): CapacityProviderStrategyItem[] | undefined {
  let valid = true;
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.capacityProvider)) {
      checker.error(element(at, index), 'each capacity provider once', `a second ${item.capacityProvider}`);
      valid = false;
    }
    seen.add(item.capacityProvider);
  });
  const withBase = items.filter((item) => item.base > 0);
  if (withBase.length > 1) {
    checker.error(element(at, items.indexOf(withBase[1] as CapacityProviderStrategyItem)), 'Base > 0 on at most one capacity provider', `Base on ${withBase.length} providers`);
    valid = false;
  }
  if (items.length > 0 && items.every((item) => item.weight === 0)) {
    checker.error(at, 'at least one capacity provider with Weight > 0', 'every Weight = 0');
    valid = false;
  }
  return valid ? items : undefined;
}

/** `[Fargate] CapacityProviderStrategy`: an array of inline tables, checked against ECS's rules. */
export const capacityProviderStrategy: Schema<CapacityProviderStrategyItem[]> = refine(
  list(strategyItem, { max: ECS_LIMITS.maxCapacityProviders }),
  checkStrategy,
);
