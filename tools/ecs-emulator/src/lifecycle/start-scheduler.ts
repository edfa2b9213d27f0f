import type { ContainerDefinition, HealthStatus } from '../ecs/model.js';
import { dependencyVerdict, type ContainerProgress, type Verdict } from './dependency-verdict.js';

/** How often a started container's Docker health status is read while a task lives. */
const HEALTH_POLL_MS = 250;

/** What the scheduler asks of the task runtime. */
export interface SchedulerHooks {
  /** Starts the container in Docker (and begins watching its exit). */
  start(name: string): Promise<void>;
  /** The container will never start: `reason` is the agent's dependency error. */
  neverStarts(name: string, reason: string): void;
  /** Docker's health status of a started container with a health check. */
  health(name: string): Promise<HealthStatus>;
  /** A container's health changed. */
  healthChanged(name: string, health: HealthStatus): void;
  /** Runs `action` after `ms` (timers the runtime cancels on shutdown). */
  later(ms: number, action: () => void): void;
  /** False once the task is stopping: no more starts or health reads. */
  active(): boolean;
}

/**
 * Starts a task's containers in `dependsOn` order, as the ECS agent does: a container starts once every
 * dependency is met (START, COMPLETE, SUCCESS, HEALTHY), or never when one cannot be met. Re-evaluates on every
 * start, exit, health change and `startTimeout` deadline; never by a fixed schedule.
 */
export class StartScheduler {
  private readonly progress = new Map<string, ContainerProgress>();
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private evaluating = false;
  private settle!: (error?: Error) => void;
  /** Settles when every essential container has started or will never start; rejects when Docker fails a start. */
  readonly essentialsSettled: Promise<void>;

  constructor(
    private readonly definitions: readonly ContainerDefinition[],
    private readonly hooks: SchedulerHooks,
  ) {
    for (const definition of definitions) {
      this.progress.set(definition.name, {
        name: definition.name,
        image: definition.image,
        status: 'WAITING',
        health: 'UNKNOWN',
        ...(definition.startTimeout !== undefined ? { startTimeoutSeconds: definition.startTimeout } : {}),
      });
    }
    this.essentialsSettled = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve());
    });
  }

  /** Begins starting containers. */
  begin(): void {
    this.evaluate();
  }

  /** Whether a container has not started (yet). */
  waiting(name: string): boolean {
    return this.progress.get(name)?.status === 'WAITING';
  }

  /** A container's main process ended. */
  exited(name: string, exitCode: number): void {
    const progress = this.progress.get(name);
    if (!progress) return;
    progress.status = 'STOPPED';
    progress.exitCode = exitCode;
    this.evaluate();
  }

  /** Runs one evaluation at a time; an event during one schedules another right after it. */
  private evaluate(): void {
    if (this.evaluating) {
      this.again = true;
      return;
    }
    this.evaluating = true;
    this.running = this.running
      .then(() => this.evaluateOnce())
      .catch((error: Error) => this.settle(error))
      .finally(() => {
        this.evaluating = false;
        if (this.again) {
          this.again = false;
          this.evaluate();
        }
      });
  }

  /** Starts (at once) every waiting container whose dependencies are met; marks those that can never start. */
  private async evaluateOnce(): Promise<void> {
    const ready: ContainerDefinition[] = [];
    for (const definition of this.definitions) {
      const target = this.progress.get(definition.name)!;
      if (target.status !== 'WAITING' || !this.hooks.active()) continue;
      const verdict = this.verdictFor(definition, target);
      if (verdict.kind === 'never') {
        target.status = 'NEVER';
        this.hooks.neverStarts(definition.name, verdict.reason);
      } else if (verdict.kind === 'met') {
        ready.push(definition);
      } else if (verdict.recheckAtMs !== undefined) {
        this.hooks.later(Math.max(0, verdict.recheckAtMs - Date.now()), () => this.evaluate());
      }
    }
    await Promise.all(ready.map((definition) => this.startContainer(definition)));
    if (ready.length > 0) this.again = true;
    const essentialsDone = this.definitions.every((d) => d.essential === false || this.progress.get(d.name)!.status !== 'WAITING');
    if (essentialsDone) this.settle();
  }

  private async startContainer(definition: ContainerDefinition): Promise<void> {
    const target = this.progress.get(definition.name)!;
    target.status = 'STARTING';
    try {
      await this.hooks.start(definition.name);
    } catch (error) {
      // An essential container that cannot start fails the task; a non-essential one is marked and the task goes on.
      if (definition.essential !== false || !this.hooks.active()) throw error;
      target.status = 'NEVER';
      this.hooks.neverStarts(definition.name, (error as Error).message);
      return;
    }
    // The container may have exited (and been recorded) before Docker's start call returned.
    if (target.status === 'STARTING') target.status = 'STARTED';
    target.startedAtMs = Date.now();
    this.armStartTimeout(target);
    if (definition.healthCheck) this.watchHealth(target);
  }

  /** The first dependency that can never be met, else whether all are met, else the earliest re-check. */
  private verdictFor(definition: ContainerDefinition, target: ContainerProgress): Verdict {
    const verdicts = (definition.dependsOn ?? []).map((dependency) =>
      dependencyVerdict(dependency.condition, this.progress.get(dependency.containerName)!, target, Date.now()),
    );
    const never = verdicts.find((verdict) => verdict.kind === 'never');
    if (never) return never;
    if (verdicts.every((verdict) => verdict.kind === 'met')) return { kind: 'met' };
    const rechecks = verdicts.flatMap((verdict) => (verdict.kind === 'wait' && verdict.recheckAtMs !== undefined ? [verdict.recheckAtMs] : []));
    return rechecks.length > 0 ? { kind: 'wait', recheckAtMs: Math.min(...rechecks) } : { kind: 'wait' };
  }

  /** Dependents of a container with `startTimeout` give up when it passes: wake them then. */
  private armStartTimeout(progress: ContainerProgress): void {
    if ((progress.startTimeoutSeconds ?? 0) > 0) this.hooks.later(progress.startTimeoutSeconds! * 1000, () => this.evaluate());
  }

  /** Reads Docker's health status until the container stops or the task stops, reporting each change. */
  private watchHealth(progress: ContainerProgress): void {
    const poll = async (): Promise<void> => {
      if (!this.hooks.active() || progress.status !== 'STARTED') return;
      const health = await this.hooks.health(progress.name).catch((): HealthStatus => progress.health);
      if (health !== progress.health) {
        progress.health = health;
        this.hooks.healthChanged(progress.name, health);
        this.evaluate();
      }
      this.hooks.later(HEALTH_POLL_MS, () => void poll());
    };
    void poll();
  }
}
