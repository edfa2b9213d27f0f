import type { ContainerDependency, HealthStatus } from '../ecs/model.js';

/** Where one container of a task is, as far as `dependsOn` cares. */
export interface ContainerProgress {
  readonly name: string;
  readonly image: string;
  /** WAITING: not started yet; STARTING: Docker is starting it; NEVER: will not start (its dependencies failed). */
  status: 'WAITING' | 'STARTING' | 'STARTED' | 'STOPPED' | 'NEVER';
  exitCode?: number;
  startedAtMs?: number;
  health: HealthStatus;
  /** The container definition's `startTimeout` in seconds: how long dependents wait for it. */
  readonly startTimeoutSeconds?: number;
}

/** Whether one dependency lets its target start: now, later (re-check at `recheckAtMs` at the latest), or never. */
export type Verdict =
  | { readonly kind: 'met' }
  | { readonly kind: 'wait'; readonly recheckAtMs?: number }
  | { readonly kind: 'never'; readonly reason: string };

const KNOWN_STATUS: Record<ContainerProgress['status'], string> = {
  WAITING: 'NONE',
  STARTING: 'CREATED',
  STARTED: 'RUNNING',
  STOPPED: 'STOPPED',
  NEVER: 'STOPPED',
};

/** The agent's rendering of a container in its errors: `name(image) (KNOWN->DESIRED) - Exit: N`. */
function describeContainer(progress: ContainerProgress): string {
  const exit = progress.exitCode === undefined ? '' : ` - Exit: ${progress.exitCode}`;
  return `${progress.name}(${progress.image}) (${KNOWN_STATUS[progress.status]}->RUNNING)${exit}`;
}

function resolved(condition: ContainerDependency['condition'], dependency: ContainerProgress): boolean {
  switch (condition) {
    case 'START':
      return dependency.status === 'STARTED' || dependency.status === 'STOPPED';
    case 'COMPLETE':
      return dependency.status === 'STOPPED';
    case 'SUCCESS':
      return dependency.status === 'STOPPED' && dependency.exitCode === 0;
    case 'HEALTHY':
      return dependency.health === 'HEALTHY';
  }
}

/**
 * The ECS agent's rules (dependencygraph, verifyContainerOrderingStatusResolvable), in its words: a dependency
 * that timed out (`startTimeout` of the dependency, counted from its start, for COMPLETE/SUCCESS/HEALTHY), a
 * SUCCESS dependency that exited non-zero, and one that will never start make the target never start.
 * A HEALTHY dependency that stopped without being healthy is the emulator's addition (the agent would wait).
 */
export function dependencyVerdict(
  condition: ContainerDependency['condition'],
  dependency: ContainerProgress,
  target: ContainerProgress,
  nowMs: number,
): Verdict {
  const pair = `[${describeContainer(dependency)}] for target [${describeContainer(target)}]`;
  const deadline =
    condition !== 'START' && dependency.status === 'STARTED' && dependency.startedAtMs !== undefined && (dependency.startTimeoutSeconds ?? 0) > 0
      ? dependency.startedAtMs + dependency.startTimeoutSeconds! * 1000
      : undefined;
  if (resolved(condition, dependency)) return { kind: 'met' };
  if (deadline !== undefined && nowMs >= deadline) {
    return { kind: 'never', reason: `dependency graph: container ordering dependency ${pair} has timed out.` };
  }
  if (condition === 'SUCCESS' && dependency.status === 'STOPPED') {
    return { kind: 'never', reason: `dependency graph: failed to resolve container ordering dependency ${pair} as dependency did not exit successfully.` };
  }
  if (dependency.status === 'NEVER') {
    return { kind: 'never', reason: `dependency graph: failed to resolve container ordering dependency ${pair} because dependency will never start` };
  }
  if (condition === 'HEALTHY' && dependency.status === 'STOPPED') {
    return { kind: 'never', reason: `dependency graph: failed to resolve container ordering dependency ${pair} as dependency stopped before it was healthy.` };
  }
  return deadline === undefined ? { kind: 'wait' } : { kind: 'wait', recheckAtMs: deadline };
}
