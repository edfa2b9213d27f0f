import type { TaskRuntime } from '../lifecycle/task-runtime.js';
import type { Cluster, Tag, Task, TaskDefinition } from './model.js';

/** A task with the machinery behind it. */
export interface TaskRecord {
  readonly task: Task;
  readonly runtime: TaskRuntime;
  /** DescribeTasks answers MISSING this many more times (injected eventual consistency). */
  missingDescribesLeft: number;
  /** When a STOPPED task stops being describable (epoch ms). */
  expiresAt?: number;
}

/** What a clientToken is bound to (ECS idempotency: per cluster, 24 hours). */
export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly response: unknown;
  readonly taskArns: string[];
  readonly expiresAt: number;
}

/** How long a clientToken stays bound (ECS idempotency doc). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** All emulated ECS state of one account and Region. */
export class EcsStore {
  readonly clusters = new Map<string, Cluster>();
  /** Revisions per family; revision N is at index N-1. */
  readonly families = new Map<string, TaskDefinition[]>();
  readonly taskDefinitionTags = new Map<string, Tag[]>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  /** Families with a RegisterTaskDefinition in progress (a second one meanwhile is refused, as on AWS). */
  readonly registering = new Set<string>();

  /** Tasks, oldest first, forgetting STOPPED ones whose retention ran out. */
  liveTasks(now: number): TaskRecord[] {
    const records: TaskRecord[] = [];
    for (const [id, record] of this.tasks) {
      if (record.expiresAt !== undefined && record.expiresAt <= now) this.tasks.delete(id);
      else records.push(record);
    }
    return records;
  }

  clear(): void {
    this.clusters.clear();
    this.families.clear();
    this.taskDefinitionTags.clear();
    this.tasks.clear();
    this.idempotency.clear();
    this.registering.clear();
  }
}
