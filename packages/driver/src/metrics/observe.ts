import type { Task } from '@aws-sdk/client-ecs';
import type { Architecture, CapacityKind } from '../cost/prices.js';
import type { JobRecord } from './job-record.js';

/** Fargate's ephemeral storage when the task definition sets none. */
const DEFAULT_EPHEMERAL_GIB = 20;

/**
 * Collects, during prepare, what the timeline and the cost need: the driver's milestones and what ECS says about the
 * task (its timestamps, size and placement) in RunTask's answer and every DescribeTasks poll. Costs nothing extra:
 * it reads the descriptions prepare gets anyway.
 */
export class TaskObserver {
  private record: { -readonly [K in keyof JobRecord]: JobRecord[K] } = {};

  constructor(private readonly now: () => number = Date.now) {}

  /** Just before the first RunTask call. */
  runTaskSent(): void {
    this.record.runTaskSentAt ??= new Date(this.now()).toISOString();
  }

  /** RunTask answered with the task. */
  runTaskReturned(task: Task): void {
    this.record.runTaskReturnedAt = new Date(this.now()).toISOString();
    this.see(task);
  }

  /** A description of the task (RunTask's or a poll's): keeps every timestamp and the size ECS reports. */
  see(task: Task): void {
    const r = this.record;
    r.taskCreatedAt = iso(task.createdAt) ?? r.taskCreatedAt;
    r.pullStartedAt = iso(task.pullStartedAt) ?? r.pullStartedAt;
    r.pullStoppedAt = iso(task.pullStoppedAt) ?? r.pullStoppedAt;
    r.taskStartedAt = iso(task.startedAt) ?? r.taskStartedAt;
    if (task.lastStatus === 'RUNNING') r.runningSeenAt ??= new Date(this.now()).toISOString();
    r.cpu = positive(task.cpu) ?? r.cpu;
    r.memoryMiB = positive(task.memory) ?? r.memoryMiB;
    r.ephemeralGiB = task.ephemeralStorage?.sizeInGiB ?? r.ephemeralGiB ?? DEFAULT_EPHEMERAL_GIB;
    r.capacity = capacityOf(task) ?? r.capacity;
    r.architecture = architectureOf(task) ?? r.architecture ?? 'X86_64';
  }

  /** Sshd accepted the job key. */
  ready(): void {
    this.record.readyAt = new Date(this.now()).toISOString();
  }

  /** What was observed so far, for the state file. */
  snapshot(): JobRecord {
    return Object.fromEntries(Object.entries(this.record).filter(([, v]) => v !== undefined)) as JobRecord;
  }
}

function iso(value: Date | undefined): string | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** `FARGATE_SPOT` when a Spot capacity provider placed it; launch type FARGATE and the FARGATE provider are on-demand. */
function capacityOf(task: Task): CapacityKind | undefined {
  if (task.capacityProviderName === 'FARGATE_SPOT') return 'FARGATE_SPOT';
  if (task.capacityProviderName !== undefined || task.launchType === 'FARGATE') return 'FARGATE';
  return undefined;
}

/** ECS reports the architecture (from the task definition's runtimePlatform) as the attribute `ecs.cpu-architecture`. */
function architectureOf(task: Task): Architecture | undefined {
  const value = task.attributes?.find((a) => a.name === 'ecs.cpu-architecture')?.value?.toLowerCase();
  if (value === 'arm64') return 'ARM64';
  if (value === 'x86_64') return 'X86_64';
  return undefined;
}
