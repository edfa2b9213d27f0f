import { epochSeconds } from '../wire/json-protocol.js';
import type { StopCode, Task, TaskStatus } from '../ecs/model.js';

/** Fargate's task states in the order a task passes them (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html). */
export const TASK_STATUSES: readonly TaskStatus[] = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
];

const rank = (status: TaskStatus): number => TASK_STATUSES.indexOf(status);

/** The network identity a task gets when it leaves PROVISIONING. */
export interface EniAllocation {
  readonly eniId: string;
  readonly macAddress: string;
  readonly privateIp: string;
  readonly publicIp?: string;
  readonly subnetId: string;
}

/** Default stoppedReason per stop code, in AWS's words. */
export const STOP_REASONS: Readonly<Partial<Record<StopCode, string>>> = {
  UserInitiated: 'Task stopped by user',
  EssentialContainerExited: 'Essential container in task exited',
  SpotInterruption: 'Your Spot Task was interrupted.',
  TerminationNotice: 'Your Spot Task was interrupted.',
};

/** States only move forward; a task that fails early may skip states (e.g. PENDING → DEPROVISIONING). */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return rank(to) > rank(from);
}

/**
 * Records a stop decision: `desiredStatus` flips to STOPPED first, as on AWS, with the stop code and reason.
 * Returns false when the task was already told to stop (the first decision wins), except that a Spot
 * `TerminationNotice` becomes `SpotInterruption` when the interruption completes.
 */
export function requestStop(task: Task, stopCode: StopCode, reason: string | undefined, nowMs: number): boolean {
  const upgradeNotice = task.stopCode === 'TerminationNotice' && stopCode === 'SpotInterruption';
  if (task.desiredStatus === 'STOPPED' && !upgradeNotice) return false;
  if (task.lastStatus === 'STOPPED') return false;
  task.desiredStatus = 'STOPPED';
  task.stopCode = stopCode;
  task.stoppedReason = reason ?? STOP_REASONS[stopCode] ?? stopCode;
  if (task.lastStatus === 'RUNNING' || rank(task.lastStatus) > rank('RUNNING')) task.stoppingAt ??= epochSeconds(nowMs);
  task.version += 1;
  return true;
}

/**
 * The images are "pulled" (PENDING's duration has passed): sets `pullStoppedAt` and bumps `version`. As on AWS, this
 * comes before any container starts, so a client that reaches the task's sshd sees it in the next description.
 */
export function finishPull(task: Task, nowMs: number): void {
  task.pullStoppedAt ??= epochSeconds(nowMs);
  task.version += 1;
}

/** Moves a task to `status`, filling the fields AWS fills at that point, and bumps `version`. */
export function enterStatus(task: Task, status: TaskStatus, nowMs: number, eni?: EniAllocation): void {
  if (!canTransition(task.lastStatus, status)) {
    throw new Error(`Task ${task.taskArn}: ${task.lastStatus} → ${status} is not a forward transition.`);
  }
  const now = epochSeconds(nowMs);
  const attachment = task.attachments[0];
  switch (status) {
    case 'PENDING':
      if (eni && attachment) {
        attachment.status = 'ATTACHED';
        attachment.details = [
          { name: 'subnetId', value: eni.subnetId },
          { name: 'networkInterfaceId', value: eni.eniId },
          { name: 'macAddress', value: eni.macAddress },
          { name: 'privateDnsName', value: privateDnsName(eni.privateIp) },
          { name: 'privateIPv4Address', value: eni.privateIp },
        ];
      }
      task.connectivity = 'CONNECTED';
      task.connectivityAt = now;
      task.pullStartedAt = now;
      break;
    case 'ACTIVATING':
      task.pullStoppedAt ??= now;
      break;
    case 'RUNNING': {
      task.startedAt = now;
      const ip = attachment?.details.find((d) => d.name === 'privateIPv4Address')?.value;
      for (const container of task.containers) {
        if (container.lastStatus === 'PENDING') container.lastStatus = 'RUNNING';
        if (ip && attachment) container.networkInterfaces = [{ attachmentId: attachment.id, privateIpv4Address: ip }];
      }
      break;
    }
    case 'DEACTIVATING':
    case 'STOPPING':
      task.stoppingAt ??= now;
      break;
    case 'DEPROVISIONING':
      task.pullStoppedAt ??= task.pullStartedAt !== undefined ? now : undefined;
      task.executionStoppedAt = now;
      for (const container of task.containers) container.lastStatus = 'STOPPED';
      if (attachment && attachment.status === 'ATTACHED') attachment.status = 'DETACHING';
      break;
    case 'STOPPED':
      task.stoppedAt = now;
      task.executionStoppedAt ??= now;
      for (const container of task.containers) container.lastStatus = 'STOPPED';
      if (attachment) attachment.status = 'DELETED';
      break;
    default:
      break;
  }
  task.lastStatus = status;
  task.version += 1;
}

/** The EC2-style private DNS name of an address: ip-127-100-0-5.ec2.internal. */
export function privateDnsName(ip: string): string {
  return `ip-${ip.replaceAll('.', '-')}.ec2.internal`;
}
