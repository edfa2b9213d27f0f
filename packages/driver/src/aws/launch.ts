import { createHash } from 'node:crypto';
import {
  type CapacityProviderStrategyItem,
  type ContainerOverride,
  type ECSClient,
  type RunTaskCommandInput,
  type RunTaskCommandOutput,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { SystemFailure } from '../errors.js';
import { describePlacement } from './placement-text.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { backoffDelay, classifyAwsError, describeAwsError } from './errors.js';
import { readFailure } from './failures.js';

/** How to place the task: on-demand launch type, or a capacity-provider strategy (Spot). */
export type Placement =
  | { readonly kind: 'launchType' }
  | { readonly kind: 'strategy'; readonly strategy: readonly CapacityProviderStrategyItem[] };

/** Everything RunTask needs for one job, decided before the first call. */
export interface LaunchPlan {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly platformVersion?: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  /** `assignPublicIp`; independent of which address the driver connects to. */
  readonly assignPublicIp: boolean;
  readonly placement: Placement;
  /** When a Spot strategy finds no capacity, retry on launch type `FARGATE`. */
  readonly onDemandFallback: boolean;
  /** The container that receives `environment` (and runs sshd). */
  readonly containerName: string;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Every container's overrides (a job image's task: the helper, `build` and the services, `job-image/overrides.ts`);
   * when set, they replace the one built from `containerName` and `environment`. @default none
   */
  readonly containerOverrides?: readonly ContainerOverride[];
  /** Task-level size overrides (strings, as ECS wants them). */
  readonly cpu?: string;
  readonly memory?: string;
  readonly ephemeralStorageGiB?: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly propagateTags: 'TASK_DEFINITION' | 'NONE';
  readonly enableEcsManagedTags: boolean;
  readonly enableExecuteCommand: boolean;
  /** ECS `startedBy` (≤ 128 of `[A-Za-z0-9-/_]`): the handle gc finds this runner's tasks by. */
  readonly startedBy: string;
  /** Makes client tokens unique per job and prepare attempt, identical across retries of one RunTask. */
  readonly clientTokenSeed: string;
}

/** Options of {@link launchTask}. */
export interface LaunchOptions {
  /** Logical attempts (capacity and quota failures, Spot fallback included). @default 6 */
  readonly maxAttempts?: number;
  /** Throttling or network errors in a row (after the SDK's own retries) before giving up. @default 3 */
  readonly maxErrorsInARow?: number;
  /** First backoff pause. @default 5_000 */
  readonly baseDelayMs?: number;
  /** @default 60_000 */
  readonly maxDelayMs?: number;
  /**
   * Capacity retries stop once the next pause would end past this many ms after the first call, so a job waits
   * for Spot or quota at most as long as it would for a task to start (prepare passes `[Timeouts] TaskStart`).
   * @default no limit besides `maxAttempts`
   */
  readonly deadlineMs?: number;
  readonly now?: () => number;
  readonly sleep?: Sleep;
  readonly signal?: AbortSignal;
  /** Progress lines for the job log. */
  readonly progress?: (message: string) => void;
}

/** What RunTask gave back. */
export interface LaunchResult {
  readonly task: Task & { taskArn: string };
  /** RunTask calls made. */
  readonly attempts: number;
  /** The placement that worked (differs from the plan after a Spot → on-demand fallback). */
  readonly placement: Placement;
}

/** RunTask refused or could not place the task; `failures` says why, in words. */
export class LaunchFailed extends SystemFailure {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LaunchFailed';
  }
}

/** The deterministic idempotency token of one RunTask call (≤ 64 printable ASCII characters). */
export function clientToken(seed: string, attempt: number, placement: Placement): string {
  const digest = createHash('sha256').update(`${seed}\0${attempt}\0${placement.kind}`).digest('hex');
  return `gfd-${digest.slice(0, 40)}`;
}

/** Builds the RunTask request for one attempt. */
export function runTaskInput(plan: LaunchPlan, placement: Placement, token: string): RunTaskCommandInput {
  const overrides: NonNullable<RunTaskCommandInput['overrides']> = {
    containerOverrides: plan.containerOverrides?.map((override) => ({ ...override })) ?? [
      {
        name: plan.containerName,
        environment: Object.entries(plan.environment).map(([name, value]) => ({ name, value })),
      },
    ],
    ...(plan.cpu !== undefined ? { cpu: plan.cpu } : {}),
    ...(plan.memory !== undefined ? { memory: plan.memory } : {}),
    ...(plan.ephemeralStorageGiB !== undefined ? { ephemeralStorage: { sizeInGiB: plan.ephemeralStorageGiB } } : {}),
  };
  const tags = Object.entries(plan.tags).map(([key, value]) => ({ key, value }));
  return {
    cluster: plan.cluster,
    taskDefinition: plan.taskDefinition,
    count: 1,
    ...(placement.kind === 'launchType' ? { launchType: 'FARGATE' } : { capacityProviderStrategy: [...placement.strategy] }),
    ...(plan.platformVersion !== undefined ? { platformVersion: plan.platformVersion } : {}),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [...plan.subnets],
        ...(plan.securityGroups.length > 0 ? { securityGroups: [...plan.securityGroups] } : {}),
        assignPublicIp: plan.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    },
    overrides,
    ...(tags.length > 0 ? { tags } : {}),
    ...(plan.propagateTags === 'TASK_DEFINITION' ? { propagateTags: 'TASK_DEFINITION' } : {}),
    ...(plan.enableEcsManagedTags ? { enableECSManagedTags: true } : {}),
    ...(plan.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
    startedBy: plan.startedBy,
    clientToken: token,
  };
}

function usesSpot(placement: Placement): boolean {
  return placement.kind === 'strategy' && placement.strategy.some((s) => s.capacityProvider === 'FARGATE_SPOT');
}

/**
 * Starts the job's task. Capacity and quota failures (HTTP 200 with `failures[]`) are retried with exponential
 * backoff, each logical attempt with its own deterministic client token; throttling and network errors are retried
 * a few times with the same token; a Spot strategy without capacity falls back to on-demand `FARGATE` at once when
 * the plan allows. Anything else fails with ECS's reason in words.
 */
export async function launchTask(ecs: ECSClient, plan: LaunchPlan, options: LaunchOptions = {}): Promise<LaunchResult> {
  const attempts = new RunTaskAttempts(plan, options);
  for (let calls = 1; ; calls++) {
    options.signal?.throwIfAborted();
    const outcome = await attempts.call(ecs);
    if (outcome.kind === 'started') return { task: outcome.task, attempts: calls, placement: attempts.placement };
    if (outcome.kind === 'error') await attempts.afterError(outcome.error);
    else if (outcome.kind === 'noCapacity') await attempts.afterNoCapacity(outcome.failureText);
  }
}

/** What one RunTask call came to, when it did not fail for good. */
type CallOutcome =
  | { readonly kind: 'started'; readonly task: Task & { taskArn: string } }
  /** No Spot capacity: the next call goes on-demand at once. */
  | { readonly kind: 'fellBack' }
  /** No capacity (or quota) right now: a new logical attempt after a backoff. */
  | { readonly kind: 'noCapacity'; readonly failureText: string }
  /** Throttling or a network error, after the SDK's own retries: the same call again, soon. */
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * The RunTask calls of one launch. A logical attempt keeps its client token across throttling and network errors:
 * if ECS did start a task before the error, the repeated call returns that task instead of starting a second one.
 */
class RunTaskAttempts {
  placement: Placement;
  private fellBack = false;
  private attempt = 1;
  private errorsInARow = 0;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly deadline: number;

  constructor(
    private readonly plan: LaunchPlan,
    private readonly options: LaunchOptions,
  ) {
    this.placement = plan.placement;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.deadline = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : this.now() + options.deadlineMs;
  }

  /** One RunTask call with the current attempt's token. @throws LaunchFailed when retrying cannot help */
  async call(ecs: ECSClient): Promise<CallOutcome> {
    const { plan, options } = this;
    const input = runTaskInput(plan, this.placement, clientToken(plan.clientTokenSeed, this.attempt, this.placement));
    try {
      // Not abortable: a cancel arriving after ECS created the task but before its answer was read would lose the
      // ARN, and the task would run until gc. The call is bounded by the request timeout; the caller sees the
      // cancel right after it and stops the task it names.
      const output = await ecs.send(new RunTaskCommand(input));
      this.errorsInARow = 0;
      return this.read(output);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      if (error instanceof LaunchFailed) throw error;
      if (classifyAwsError(error) === 'permanent') {
        throw new LaunchFailed(`RunTask failed: ${describeAwsError(error)}${runTaskHint(error)}`, { cause: error });
      }
      return { kind: 'error', error };
    }
  }

  /** Waits before calling again with the same token. @throws LaunchFailed after `maxErrorsInARow` */
  async afterError(error: unknown): Promise<void> {
    this.errorsInARow++;
    const why = describeAwsError(error);
    if (this.errorsInARow >= (this.options.maxErrorsInARow ?? 3)) {
      throw new LaunchFailed(`RunTask failed ${this.errorsInARow} times in a row: ${why}`, { cause: error });
    }
    const delay = backoffDelay(this.errorsInARow, 1_000, 10_000);
    this.options.progress?.(`RunTask: ${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    await this.sleep(delay, this.options.signal);
  }

  /** Backs off, then starts a new logical attempt. @throws LaunchFailed after `maxAttempts` or past the deadline */
  async afterNoCapacity(failureText: string): Promise<void> {
    const { options, attempt } = this;
    const maxAttempts = options.maxAttempts ?? 6;
    if (attempt >= maxAttempts) {
      throw new LaunchFailed(`RunTask did not start a task after ${attempt} attempts; last reason: ${failureText}`);
    }
    const delay = backoffDelay(attempt, options.baseDelayMs ?? 5_000, options.maxDelayMs ?? 60_000);
    if (this.now() + delay > this.deadline) {
      throw new LaunchFailed(
        `RunTask did not start a task within ${Math.round((options.deadlineMs ?? 0) / 1000)} s ([Timeouts] TaskStart, ` +
          `${attempt} attempt${attempt === 1 ? '' : 's'}); last reason: ${failureText}`,
      );
    }
    this.attempt++;
    options.progress?.(`RunTask: ${failureText}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${this.attempt} of ${maxAttempts})`);
    await this.sleep(delay, options.signal);
  }

  /** A RunTask answer: the task, or its failures in words and what they allow. */
  private read(output: RunTaskCommandOutput): CallOutcome {
    const task = output.tasks?.[0];
    if (task?.taskArn !== undefined) return { kind: 'started', task: task as Task & { taskArn: string } };
    const readings = (output.failures ?? []).map(readFailure);
    const failureText = readings.map((r) => r.text).join('; ') || 'RunTask returned neither a task nor a failure';
    const capacity = readings.length > 0 && readings.every((r) => r.capacity);
    if (capacity && usesSpot(this.placement) && this.plan.onDemandFallback && !this.fellBack) {
      this.fellBack = true;
      this.placement = { kind: 'launchType' };
      this.attempt++;
      this.options.progress?.(`No Spot capacity (${failureText}); trying on-demand FARGATE instead`);
      return { kind: 'fellBack' };
    }
    if (!(readings.length > 0 && readings.every((r) => r.retryable))) {
      throw new LaunchFailed(`RunTask could not start ${this.plan.taskDefinition} with ${describePlacement(this.placement)}: ${failureText}`);
    }
    return { kind: 'noCapacity', failureText };
  }
}

function runTaskHint(error: unknown): string {
  const name = (error as { name?: string }).name;
  const message = error instanceof Error ? error.message : '';
  if (name === 'AccessDeniedException') {
    return ' (the runner needs ecs:RunTask on the task definition, ecs:TagResource when tags are set, and iam:PassRole for the task roles)';
  }
  if (message.includes('No Container Instances')) {
    return ' (the cluster has no Fargate capacity provider strategy; configure CapacityProviderStrategy or leave it empty for launch type FARGATE)';
  }
  if (message.includes('Unable to describe task definition')) {
    return ' (check the task definition name, its revision, and the region)';
  }
  return '';
}

/** How StopTask ended. */
export type StopOutcome = 'stopped' | 'already-gone';

/** Options of {@link stopTask}. */
export interface StopOptions {
  /** Overall deadline, retries included. Fresh: never the (possibly cancelled) job's own. @default 60_000 */
  readonly deadlineMs?: number;
  /** @default 500 */
  readonly baseDelayMs?: number;
  readonly sleep?: Sleep;
  readonly now?: () => number;
}

/**
 * Stops a task with a reason people will see in the console. Throttling and transient errors are retried until
 * the deadline; a task ECS no longer knows counts as stopped.
 */
export async function stopTask(
  ecs: ECSClient,
  target: { readonly cluster: string; readonly taskArn: string; readonly reason: string },
  options: StopOptions = {},
): Promise<StopOutcome> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + (options.deadlineMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - now();
    try {
      await ecs.send(
        new StopTaskCommand({ cluster: target.cluster, task: target.taskArn, reason: target.reason.slice(0, 255) }),
        { abortSignal: AbortSignal.timeout(Math.max(1_000, remaining)) },
      );
      return 'stopped';
    } catch (error) {
      if (isTaskGone(error)) return 'already-gone';
      const kind = classifyAwsError(error);
      const delay = backoffDelay(attempt, options.baseDelayMs ?? 500, 10_000);
      if (kind === 'permanent' || now() + delay >= deadline) {
        throw new SystemFailure(`StopTask ${target.taskArn} failed: ${describeAwsError(error)}`, { cause: error });
      }
      await sleep(delay);
    }
  }
}

function isTaskGone(error: unknown): boolean {
  const message = error instanceof Error ? error.message.toLowerCase() : '';
  return message.includes('task was not found') || message.includes('task not found') || (error as { name?: string }).name === 'TaskNotFoundException';
}
