/**
 * Which calls a fault hits: the next `count` matching occasions, or each occasion with `probability`
 * (0–1). With both, the count is used up first. With neither, every occasion.
 */
export interface FaultSelector {
  /** Hit the next N occasions, then stop. */
  readonly count?: number;
  /** Hit each occasion with this probability (0–1). */
  readonly probability?: number;
}

/** Why a task stops before RUNNING. */
export type StartFailureError = 'CannotPullContainerError' | 'ResourceInitializationError';

/** Faults the emulator injects. Every field is optional; absent means the fault is off. */
export interface FaultOptions {
  /** RunTask answers `Capacity is unavailable at this time…` in `failures[]` for this capacity provider. */
  readonly capacityUnavailable?: { readonly FARGATE?: FaultSelector; readonly FARGATE_SPOT?: FaultSelector };
  /** Concurrent vCPUs (sum of the cpu of tasks not yet STOPPED); RunTask beyond it fails with AWS's vCPU-limit reason. */
  readonly vcpuLimit?: number;
  /** Tasks stop before RUNNING with stopCode `TaskFailedToStart` and this error as reason. */
  readonly startFailure?: FaultSelector & {
    readonly error: StartFailureError;
    /** Replaces the default AWS-like text after the `<error>: ` prefix. */
    readonly message?: string;
  };
  /** Tasks stay this much longer in PROVISIONING. */
  readonly slowProvisioning?: FaultSelector & { readonly extraMs: number };
  /** DescribeTasks reports each new task as MISSING this many times before it shows it (eventual consistency). */
  readonly missingDescribes?: number;
  /** FARGATE_SPOT tasks are interrupted `afterRunningMs` after RUNNING, with a TerminationNotice lasting `noticeMs`. */
  readonly spotInterruption?: FaultSelector & { readonly afterRunningMs?: number; readonly noticeMs?: number };
  /**
   * The task reports RUNNING but its containers start only `delayMs` later, so its ports refuse
   * connections until then: the "sshd not listening yet" case.
   */
  readonly lateSshd?: FaultSelector & { readonly delayMs: number };
  /** Calls answer `500 ServerException` (the SDK retries these as transient). `operations` limits which; default all. */
  readonly serverError?: FaultSelector & { readonly operations?: readonly string[] };
  /** Calls answer `400 AccessDeniedException` in IAM's words (not retried). `operations` limits which; default all. */
  readonly accessDenied?: FaultSelector & { readonly operations?: readonly string[] };
}

/** Counts consumed per fault, so count-based faults fire exactly N times. */
export class FaultState {
  private used = new Map<string, number>();

  constructor(
    private faults: FaultOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  get options(): FaultOptions {
    return this.faults;
  }

  /** Replaces the faults and forgets the counts used so far. */
  configure(faults: FaultOptions): void {
    this.faults = faults;
    this.used.clear();
  }

  /** Decides whether the fault under `key` hits this occasion (and uses up one count if so). */
  hits(key: string, selector: FaultSelector | undefined): boolean {
    if (!selector) return false;
    const used = this.used.get(key) ?? 0;
    if (selector.count !== undefined && used < selector.count) {
      this.used.set(key, used + 1);
      return true;
    }
    if (selector.probability !== undefined) return this.random() < selector.probability;
    return selector.count === undefined;
  }
}
