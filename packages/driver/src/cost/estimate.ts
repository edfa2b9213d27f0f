import type { PricingSettings } from '@gitlab-fargate/config';
import { type Architecture, type CapacityKind, INCLUDED_EPHEMERAL_GIB, MINIMUM_BILLED_SECONDS } from './prices.js';
import { pricesKnown, resolvePrices } from './resolve-prices.js';

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
