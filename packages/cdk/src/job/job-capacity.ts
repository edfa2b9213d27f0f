import * as ecs from 'aws-cdk-lib/aws-ecs';

/** Options for {@link JobCapacity.spotWithOnDemandFallback}. */
export interface SpotWithOnDemandOptions {
  /**
   * Relative share of tasks placed on Fargate Spot.
   * @default 3
   */
  readonly spotWeight?: number;

  /**
   * Relative share of tasks placed on on-demand Fargate.
   * @default 1
   */
  readonly onDemandWeight?: number;

  /**
   * Number of tasks always placed on on-demand Fargate before the weights apply.
   * @default 0
   */
  readonly onDemandBase?: number;
}

/**
 * Which Fargate capacity job tasks run on: the cluster's default capacity-provider strategy, also handed to the
 * driver (`CAPACITY_PROVIDER_STRATEGY`) so its RunTask calls name it explicitly.
 *
 * Setting a default strategy on the cluster is what fixes the seed setup's "InvalidParameterException: No Container
 * Instances were found in your cluster" when RunTask names neither a launch type nor a strategy.
 */
export class JobCapacity {
  /** On-demand Fargate only. Jobs are never interrupted. */
  public static readonly ON_DEMAND = new JobCapacity('on-demand', [{ capacityProvider: 'FARGATE', weight: 1 }]);

  /**
   * Fargate Spot only (up to 70% cheaper). AWS may stop a task with a two-minute warning; pair with
   * `retry: when: runner_system_failure` in `.gitlab-ci.yml`.
   */
  public static readonly SPOT = new JobCapacity('spot', [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);

  /** Spread tasks over Fargate Spot and on-demand Fargate by weight, with an optional on-demand base. */
  public static spotWithOnDemandFallback(options: SpotWithOnDemandOptions = {}): JobCapacity {
    const base = options.onDemandBase ?? 0;
    return new JobCapacity('spot-with-on-demand', [
      { capacityProvider: 'FARGATE', weight: options.onDemandWeight ?? 1, base: base > 0 ? base : undefined },
      { capacityProvider: 'FARGATE_SPOT', weight: options.spotWeight ?? 3 },
    ]);
  }

  private constructor(
    /** A short name for logs and tags. */
    public readonly name: string,
    /** The capacity-provider strategy. */
    public readonly strategy: ecs.CapacityProviderStrategy[],
  ) {}

  /**
   * The strategy as the manager's renderer reads it: comma-separated `PROVIDER:weight:base` entries,
   * e.g. `FARGATE:1:0,FARGATE_SPOT:3:0`.
   */
  public toEnvironmentValue(): string {
    return this.strategy.map((s) => `${s.capacityProvider}:${s.weight ?? 0}:${s.base ?? 0}`).join(',');
  }

  /** Problems with the weights and base, as synth-time error messages. */
  public problems(): string[] {
    const problems: string[] = [];
    for (const s of this.strategy) {
      const weight = s.weight ?? 0;
      const base = s.base ?? 0;
      if (!Number.isInteger(weight) || weight < 0 || weight > 1000) {
        problems.push(`JobCapacity: ${s.capacityProvider} weight must be an integer from 0 to 1000 (got ${weight}).`);
      }
      if (!Number.isInteger(base) || base < 0 || base > 100000) {
        problems.push(`JobCapacity: ${s.capacityProvider} base must be an integer from 0 to 100000 (got ${base}).`);
      }
    }
    if (this.strategy.every((s) => (s.weight ?? 0) === 0)) {
      problems.push('JobCapacity: at least one capacity provider needs a weight above 0, or no task can be placed.');
    }
    return problems;
  }
}
