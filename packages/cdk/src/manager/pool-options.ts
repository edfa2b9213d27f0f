import { Duration } from 'aws-cdk-lib';

/** A schedule of a warm pool: while one of its periods matches, the pool keeps this many idle tasks. */
export interface PoolPolicyOptions {
  /**
   * Five-field unix-cron periods (minute hour day-of-month month day-of-week), each matching the minutes it covers,
   * e.g. `* 8-17 * * mon-fri` (08:00 to 17:59 on weekdays). The last policy that matches wins.
   * @default ['* * * * *'] (always)
   */
  readonly periods?: string[];

  /**
   * The IANA time zone the periods are read in, e.g. `Europe/Berlin`.
   * @default 'UTC'
   */
  readonly timezone?: string;

  /** Idle tasks to keep while a period matches (0 to 100, at most the pool's `maxIdle`). */
  readonly idleCount: number;

  /**
   * How long a task started under this policy may wait for a job (1 minute to 1 day).
   * @default - the pool's idleTime
   */
  readonly idleTime?: Duration;
}

/**
 * A warm pool: idle job tasks, started ahead of jobs from the job task definition, that a job's prepare stage claims
 * instead of starting a task (the driver's `[[Pool]]`). Each task bills while it waits.
 */
export interface PoolOptions {
  /** The pool's name (its directory and `gitlab-fargate:pool` tag): letters, digits, `_` and `-`, up to 63. */
  readonly name: string;

  /**
   * Idle tasks to keep when no policy matches (0 to 100).
   * @default 0
   */
  readonly idleCount?: number;

  /**
   * How long an idle task may wait for a job, from its launch; its own watchdog stops it then (1 minute to 1 day).
   * @default Duration.minutes(20)
   */
  readonly idleTime?: Duration;

  /**
   * At most this many idle (ready and starting) tasks, whatever a policy asks (0 to 100).
   * @default 10
   */
  readonly maxIdle?: number;

  /**
   * An idle task older than this is replaced, whatever its idle time (1 minute to 7 days).
   * @default Duration.hours(4)
   */
  readonly maxAge?: Duration;

  /**
   * Schedules (the driver's `[[Pool.Policy]]`): e.g. 2 idle tasks on weekdays 08:00 to 17:59 in `Europe/Berlin`, and
   * the pool's `idleCount` otherwise.
   * @default - none: always idleCount
   */
  readonly policies?: PoolPolicyOptions[];
}
