import { invalidParameter } from '../wire/aws-error.js';
import { optInt, optString, type Input } from '../wire/input.js';
import type { CapacityProviderStrategyItem } from './model.js';

/** The capacity providers every Fargate cluster can use. */
export const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;

export function checkProviders(providers: string[]): void {
  for (const provider of providers) {
    if (!(FARGATE_PROVIDERS as readonly string[]).includes(provider)) {
      throw invalidParameter(`The specified capacity provider '${provider}' does not exist. Specify a valid capacity provider and try again.`);
    }
  }
}

/** Reads and checks a capacity provider strategy (weights 0–1000, base 0–100000, one base at most). */
export function readStrategy(items: Input[] | undefined): CapacityProviderStrategyItem[] | undefined {
  if (items === undefined) return undefined;
  if (items.length > 20) throw invalidParameter('A capacity provider strategy can contain at most 20 capacity providers.');
  const strategy = items.map((item) => {
    const capacityProvider = optString(item, 'capacityProvider');
    if (!capacityProvider) throw invalidParameter('capacityProviderStrategy.capacityProvider can not be blank.');
    const weight = optInt(item, 'weight') ?? 0;
    const base = optInt(item, 'base') ?? 0;
    if (weight < 0 || weight > 1000) throw invalidParameter('The capacity provider strategy weight must be between 0 and 1000.');
    if (base < 0 || base > 100000) throw invalidParameter('The capacity provider strategy base must be between 0 and 100000.');
    return { capacityProvider, weight, base };
  });
  if (strategy.filter((item) => item.base > 0).length > 1) {
    throw invalidParameter('Only one capacity provider in a capacity provider strategy can have a base defined.');
  }
  if (new Set(strategy.map((item) => item.capacityProvider)).size !== strategy.length) {
    throw invalidParameter('A capacity provider strategy cannot contain the same capacity provider more than once.');
  }
  if (strategy.length > 0 && strategy.every((item) => item.weight === 0)) {
    throw invalidParameter('At least one capacity provider in a capacity provider strategy must have a weight greater than 0.');
  }
  return strategy;
}

/** Strategy providers must be associated with the cluster (RunTask and PutClusterCapacityProviders). */
export function checkStrategyAssociated(strategy: CapacityProviderStrategyItem[], clusterProviders: string[]): void {
  for (const item of strategy) {
    if (!clusterProviders.includes(item.capacityProvider)) {
      throw invalidParameter(
        'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
      );
    }
  }
}

/**
 * Picks the provider for each of `count` tasks as ECS spreads them: the provider with a base gets its first
 * `base` tasks, the rest go by weight (deterministic round-robin on weight shares).
 */
export function placeByStrategy(
  strategy: CapacityProviderStrategyItem[],
  count: number,
  alreadyPlaced: Map<string, number> = new Map(),
): string[] {
  const placed = new Map(alreadyPlaced);
  const result: string[] = [];
  for (let i = 0; i < count; i++) {
    const needingBase = strategy.find((item) => (placed.get(item.capacityProvider) ?? 0) < item.base);
    let chosen = needingBase?.capacityProvider;
    if (!chosen) {
      const total = [...placed.values()].reduce((sum, n) => sum + n, 0) + 1;
      let best: { provider: string; deficit: number } | undefined;
      const weightSum = strategy.reduce((sum, item) => sum + item.weight, 0);
      for (const item of strategy) {
        if (item.weight === 0) continue;
        const deficit = (item.weight / weightSum) * total - (placed.get(item.capacityProvider) ?? 0);
        if (!best || deficit > best.deficit) best = { provider: item.capacityProvider, deficit };
      }
      chosen = best!.provider;
    }
    placed.set(chosen, (placed.get(chosen) ?? 0) + 1);
    result.push(chosen);
  }
  return result;
}
