/**
 * What the DescribeTasks poller is for while a task starts; it decides how long the poller may lag behind ECS.
 * - `running`: it alone sees the task become usable (UsePublicIP: the address needs EC2 and a RUNNING task).
 * - `address`: it waits for the task's private address, which starts the SSH probe (PROVISIONING; on Fargate the
 *   address appears once the ENI is attached, with PENDING, while the image pulls, before RUNNING).
 * - `stop`: the SSH probe has the address and sees readiness itself; the poller only watches for a task that stops.
 */
export type StartWatch = 'running' | 'address' | 'stop';

/** Each pause is this share of the time waited so far: the number of polls grows with the log of the start time. */
const START_POLL_GROWTH = 0.5;

/** The longest pause while the poller waits for the address, in TaskPollIntervals and absolutely. */
const ADDRESS_CAP = { intervals: 2.5, ms: 5_000 };

/** The longest pause once the poller only watches for a stop: the bound on how late a stop is reported. */
const STOP_CAP = { intervals: 5, ms: 10_000 };

/** Where a task's start stands when the poller is about to pause. */
export interface StartPoll {
  /** Since the watch began (right after RunTask answered). */
  readonly elapsedMs: number;
  /** `[Timeouts] TaskPollInterval`: the first and the shortest pause. */
  readonly taskPollMs: number;
  /** What the poller is waiting for now. */
  readonly watch: StartWatch;
}

/**
 * The pause before the next DescribeTasks of a starting task. It starts at TaskPollInterval and grows to half the time
 * waited so far (so a 70 s start costs about a dozen polls, not 35), up to a cap that bounds how late the poller sees
 * what it waits for: 2.5× TaskPollInterval (at most 5 s) while it waits for the address, 5× (at most 10 s) once the SSH
 * probe sees readiness and the poller only watches for a stop. Never shorter than TaskPollInterval. With `running`
 * (the poller alone sees readiness) it stays at TaskPollInterval.
 */
export function startPollDelayMs({ elapsedMs, taskPollMs, watch }: StartPoll): number {
  if (watch === 'running') return taskPollMs;
  const cap = watch === 'stop' ? STOP_CAP : ADDRESS_CAP;
  const capMs = Math.min(taskPollMs * cap.intervals, cap.ms);
  return Math.max(taskPollMs, Math.min(capMs, elapsedMs * START_POLL_GROWTH));
}
