import type { TaskStateChange } from '../config/options.js';
import { taskIdOf } from '../ecs/identifiers.js';
import type { Task } from '../ecs/model.js';
import type { EcsStore } from '../ecs/store.js';
import type { TaskRuntime } from './task-runtime.js';

/**
 * The emulator's running task runtimes, and the listener told about each task status change once: a change is
 * `lastStatus/desiredStatus/stopCode`, repeated callbacks with the same status are not reported again.
 */
export class TaskTracker {
  readonly runtimes = new Set<TaskRuntime>();
  private readonly lastSeen = new Map<string, string>();

  constructor(
    private readonly store: EcsStore,
    /** How long a STOPPED task stays describable. */
    private readonly retentionMs: number,
    private readonly listener?: (change: TaskStateChange) => void,
  ) {}

  /** A runtime was launched for `task`. */
  launched(task: Task, runtime: TaskRuntime): void {
    this.runtimes.add(runtime);
    this.report(task);
  }

  /** `task` changed status (TaskRuntime's `onChange`). */
  changed(task: Task): void {
    this.report(task, this.store.tasks.get(taskIdOf(task.taskArn))?.runtime);
  }

  /** `task` reached STOPPED (TaskRuntime's `onStopped`): it stays describable for the retention time. */
  stopped(task: Task): void {
    const record = this.store.tasks.get(taskIdOf(task.taskArn));
    if (record) {
      record.expiresAt = Date.now() + this.retentionMs;
      this.runtimes.delete(record.runtime);
    }
    this.lastSeen.delete(task.taskArn);
  }

  /** Aborts every runtime and forgets every task (reset). */
  abortAll(): void {
    for (const runtime of this.runtimes) runtime.abort();
    this.runtimes.clear();
  }

  /** Forgets the statuses already reported (reset). */
  forgetReported(): void {
    this.lastSeen.clear();
  }

  private report(task: Task, runtime?: TaskRuntime): void {
    const key = `${task.lastStatus}/${task.desiredStatus}/${task.stopCode ?? ''}`;
    if (this.lastSeen.get(task.taskArn) === key) return;
    this.lastSeen.set(task.taskArn, key);
    this.listener?.(taskStateChange(task, runtime));
  }
}

/** What `onTaskStateChange` receives for a task's current status. */
function taskStateChange(task: Task, runtime: TaskRuntime | undefined): TaskStateChange {
  return {
    at: new Date(),
    taskArn: task.taskArn,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    ...(task.stopCode ? { stopCode: task.stopCode } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(runtime?.eni ? { privateIp: runtime.eni.privateIp } : {}),
    ...(runtime?.eni?.publicIp ? { publicIp: runtime.eni.publicIp } : {}),
    ...(task.capacityProviderName ? { capacityProviderName: task.capacityProviderName } : {}),
  };
}
