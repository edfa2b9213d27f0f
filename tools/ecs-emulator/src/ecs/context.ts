import type { FaultState } from '../faults/faults.js';
import type { NetworkPlan, TaskFaultPlan, TaskRuntime } from '../lifecycle/task-runtime.js';
import type { ArnScope } from './identifiers.js';
import type { Task, TaskDefinition } from './model.js';
import type { EcsStore } from './store.js';

/** What the operation handlers share. */
export interface ServiceContext {
  readonly scope: ArnScope;
  readonly store: EcsStore;
  readonly faults: FaultState;
  /** Starts the lifecycle of a freshly created task. */
  launch(task: Task, taskDefinition: TaskDefinition, network: NetworkPlan, plan: TaskFaultPlan): TaskRuntime;
  now(): number;
  /** Resolves when a new task-definition revision is created (`phases.registrationMs` from now). */
  registrationDelay(): Promise<void>;
}
