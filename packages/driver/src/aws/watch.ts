import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { SystemFailure } from '../errors.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { classifyAwsError, describeAwsError } from './errors.js';

/** The task stopped (or was told to) before it ever became usable. */
export class TaskStopped extends SystemFailure {
  readonly task: Task;
  constructor(task: Task) {
    super(describeStoppedTask(task));
    this.name = 'TaskStopped';
    this.task = task;
  }
}

/** Everything ECS says about why a task stopped, in one line: stop code, reason, each container's fate. */
export function describeStoppedTask(task: Task): string {
  const parts = [`task ${task.taskArn ?? '(unknown)'} stopped`];
  if (task.stopCode) parts.push(`stopCode ${task.stopCode}`);
  if (task.stoppedReason) parts.push(`reason: ${task.stoppedReason}`);
  for (const container of task.containers ?? []) {
    const bits: string[] = [];
    if (container.reason) bits.push(container.reason);
    if (container.exitCode !== undefined) bits.push(`exit code ${container.exitCode}`);
    if (bits.length > 0) parts.push(`container ${container.name ?? '?'}: ${bits.join(', ')}`);
  }
  return parts.join('; ');
}

/** Options of {@link waitForRunning}. */
export interface WatchOptions {
  /** Give up after this long. @default 600_000 */
  readonly timeoutMs?: number;
  /** Pause between polls; a function is asked before each pause, with the milliseconds since the watch began. @default 2_000 */
  readonly pollIntervalMs?: number | ((elapsedMs: number) => number);
  /**
   * Pause (the interval at 0 ms) before the first poll too: for a caller that already has RunTask's description of the
   * task, which a poll right away would only repeat. @default false
   */
  readonly pauseFirst?: boolean;
  /**
   * How long a MISSING answer counts as ECS's eventual consistency right after RunTask, not a lost task.
   * @default 30_000
   */
  readonly missingGraceMs?: number;
  /** The container that must be RUNNING (and HEALTHY, when it has a health check). */
  readonly containerName?: string;
  readonly signal?: AbortSignal;
  readonly sleep?: Sleep;
  readonly now?: () => number;
  /** Each change of `lastStatus` (or health), with seconds since the watch started. */
  readonly onTransition?: (status: string, elapsedSeconds: number, task: Task) => void;
  /** Every task description received, before it is judged (e.g. to act on an address early). */
  readonly onTask?: (task: Task) => void;
  /** A poll that failed and will be repeated (throttling, network). */
  readonly onPollError?: (error: unknown) => void;
}

/**
 * Polls DescribeTasks until the task (and its SSH container) is RUNNING. Unlike the SDK waiter it tolerates
 * MISSING right after RunTask, keeps polling through throttling, and fails fast with ECS's stop reasons as soon
 * as the task is stopping (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
 *
 * @throws TaskStopped when the task stops or is told to
 * @throws SystemFailure on timeout, or when the task stays MISSING past the grace period
 */
export async function waitForRunning(ecs: ECSClient, cluster: string, taskArn: string, options: WatchOptions = {}): Promise<Task> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const start = now();
  const timeoutMs = options.timeoutMs ?? 600_000;
  const interval = (elapsedMs: number): number =>
    typeof options.pollIntervalMs === 'function' ? options.pollIntervalMs(elapsedMs) : options.pollIntervalMs ?? 2_000;
  let lastReported: string | undefined;
  if (options.pauseFirst === true) await sleep(Math.min(interval(0), timeoutMs), options.signal);
  for (;;) {
    options.signal?.throwIfAborted();
    const elapsed = now() - start;
    let task: Task | undefined;
    let missing = false;
    try {
      const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }), { abortSignal: options.signal });
      task = out.tasks?.find((t) => t.taskArn === taskArn) ?? out.tasks?.[0];
      missing = task === undefined && (out.failures ?? []).some((f) => f.reason === 'MISSING');
      if (task === undefined && !missing) {
        const reasons = (out.failures ?? []).map((f) => f.reason).join(', ');
        throw new SystemFailure(`DescribeTasks did not return task ${taskArn}${reasons ? `: ${reasons}` : ''}`);
      }
    } catch (error) {
      // A cancel aborts the SDK call with an AbortError: report the cancellation, not the SDK's words.
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      if (error instanceof SystemFailure || classifyAwsError(error) === 'permanent') {
        if (error instanceof SystemFailure) throw error;
        throw new SystemFailure(`DescribeTasks failed: ${describeAwsError(error)}`, { cause: error });
      }
      options.onPollError?.(error);
    }

    if (missing && elapsed > (options.missingGraceMs ?? 30_000)) {
      throw new SystemFailure(`ECS does not know task ${taskArn} (MISSING for ${Math.round(elapsed / 1000)} s after RunTask)`);
    }
    if (task !== undefined) {
      options.onTask?.(task);
      const status = statusLine(task, options.containerName);
      if (status !== lastReported) {
        lastReported = status;
        options.onTransition?.(status, elapsed / 1000, task);
      }
      if (task.lastStatus === 'STOPPED' || task.desiredStatus === 'STOPPED' || task.lastStatus === 'DEPROVISIONING') {
        throw new TaskStopped(task);
      }
      if (isReady(task, options.containerName)) return task;
    }
    if (elapsed >= timeoutMs) {
      throw new SystemFailure(
        `task ${taskArn} was not RUNNING after ${Math.round(timeoutMs / 1000)} s (last status ${lastReported ?? 'unknown'}); ` +
          'large images pull slowly: raise [Timeouts] TaskStart if this is expected',
      );
    }
    const waited = now() - start;
    await sleep(Math.min(interval(waited), Math.max(0, timeoutMs - waited)), options.signal);
  }
}

function container(task: Task, name: string | undefined) {
  return name === undefined ? undefined : task.containers?.find((c) => c.name === name);
}

function statusLine(task: Task, containerName: string | undefined): string {
  const c = container(task, containerName);
  const health = c?.healthStatus !== undefined && c.healthStatus !== 'UNKNOWN' ? ` (${c.healthStatus})` : '';
  return `${task.lastStatus ?? 'UNKNOWN'}${health}`;
}

function isReady(task: Task, containerName: string | undefined): boolean {
  if (task.lastStatus !== 'RUNNING') return false;
  const c = container(task, containerName);
  if (c === undefined) return true;
  if (c.lastStatus !== undefined && c.lastStatus !== 'RUNNING') return false;
  // UNKNOWN means no health check (or none evaluated yet: the SSH probe covers that); UNHEALTHY is worth waiting out.
  return c.healthStatus !== 'UNHEALTHY';
}
