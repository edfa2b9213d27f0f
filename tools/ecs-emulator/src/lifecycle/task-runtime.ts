import type { DockerClient } from '../docker/docker-client.js';
import type { StopCode, Task, TaskDefinition } from '../ecs/model.js';
import { platformMismatchReason, taskDockerPlatform } from '../ecs/cpu-architecture.js';
import { newEniId, newMacAddress } from '../ecs/identifiers.js';
import type { StartFailureError } from '../faults/faults.js';
import { taskPorts } from './container-spec.js';
import { TaskContainers } from './task-containers.js';
import { awaitProxyPath, portAccepts } from './port-probe.js';
import type { LoopbackPool } from './loopback-pool.js';
import type { PhaseDurations } from './phases.js';
import { enterStatus, finishPull, requestStop, type EniAllocation } from './state-machine.js';

/** What the runtime needs from the emulator around it. */
export interface RuntimeEnvironment {
  readonly docker: DockerClient;
  readonly addresses: LoopbackPool;
  readonly region: string;
  readonly instanceLabels: Record<string, string>;
  readonly applyResourceLimits: boolean;
  /** Image of the network holder every task gets. */
  readonly holderImage: string;
  /** Seconds between SIGTERM and SIGKILL when the container definition sets no `stopTimeout`. */
  readonly defaultStopTimeoutSeconds: number;
  /** Longest time ACTIVATING waits for the task's TCP ports to accept connections (0: do not wait). */
  readonly portReadinessTimeoutMs: number;
  phases(): PhaseDurations;
  /** Called after every change of `lastStatus` or `desiredStatus`. */
  onChange(task: Task): void;
  /** Called once the task reached STOPPED and freed its addresses. */
  onStopped(task: Task): void;
}

/** Faults decided for this task when it was launched. */
export interface TaskFaultPlan {
  readonly extraProvisioningMs?: number;
  readonly startFailure?: { readonly error: StartFailureError; readonly message?: string };
  readonly lateStartMs?: number;
  readonly spotInterruption?: { readonly afterRunningMs: number; readonly noticeMs: number };
}

/** What the network launch parameters say about addresses. */
export interface NetworkPlan {
  readonly subnetId: string;
  readonly assignPublicIp: boolean;
}

const DEFAULT_FAILURE_TEXT: Record<StartFailureError, (image: string) => string> = {
  CannotPullContainerError: (image) =>
    `pull image manifest has been retried 5 time(s): failed to resolve ref ${qualifiedImage(image)}: ${qualifiedImage(image)}: not found`,
  ResourceInitializationError: () =>
    'unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded',
};

/** docker.io/library/foo:latest for `foo`, as the Fargate agent spells a reference in its errors. */
export function qualifiedImage(image: string): string {
  const [first, ...rest] = image.split('/');
  const hasRegistry = rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  let name = hasRegistry ? image : `docker.io/${rest.length === 0 ? `library/${image}` : image}`;
  if (!/[:@][^/]+$/.test(name.slice(name.lastIndexOf('/')))) name += ':latest';
  return name;
}

/**
 * Drives one task through Fargate's lifecycle with a Docker container per container definition. Timed
 * phases sleep; Docker-bound phases last as long as Docker takes; container exits arrive through the
 * engine's wait endpoint, never by polling.
 */
export class TaskRuntime {
  eni?: EniAllocation;
  private readonly containers: TaskContainers;
  private stopSignal!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stopSignal = resolve));
  private readonly timers = new Set<NodeJS.Timeout>();
  private aborted = false;
  /** Settles when the task reached STOPPED (or the emulator shut down). */
  readonly done: Promise<void>;

  constructor(
    readonly task: Task,
    readonly taskDefinition: TaskDefinition,
    private readonly network: NetworkPlan,
    private readonly env: RuntimeEnvironment,
    private readonly faults: TaskFaultPlan,
  ) {
    this.containers = new TaskContainers(task, taskDefinition, {
      ...env,
      essentialStopped: () => this.stop('EssentialContainerExited'),
      changed: () => {
        this.task.version += 1;
        this.env.onChange(this.task);
      },
      stopping: () => this.stopRequested,
      aborted: () => this.aborted,
      later: (ms, action) => this.later(ms, action),
    });
    this.done = this.run().catch((error: unknown) => {
      if (!this.aborted) console.error(`ecs-emulator: task ${task.taskArn} lifecycle failed:`, error);
    });
  }

  /** StopTask, an essential container's exit or an injected fault: flips desiredStatus and starts stopping. */
  stop(stopCode: StopCode, reason?: string): boolean {
    const changed = requestStop(this.task, stopCode, reason, Date.now());
    if (changed) {
      this.env.onChange(this.task);
      this.stopSignal();
    }
    return changed;
  }

  /**
   * Spot interruption: a TerminationNotice (desiredStatus STOPPED, lastStatus RUNNING) and SIGTERM to the
   * containers, then after `noticeMs` the stop proper with stopCode SpotInterruption.
   */
  interruptSpot(noticeMs: number): boolean {
    if (this.task.lastStatus !== 'RUNNING' || this.task.desiredStatus !== 'RUNNING') return false;
    requestStop(this.task, 'TerminationNotice', undefined, Date.now());
    this.env.onChange(this.task);
    this.containers.signal('SIGTERM');
    this.later(noticeMs, () => this.finishSpotInterruption());
    return true;
  }

  /** Emulator shutdown: stop waiting, forget timers; the caller removes the containers. */
  abort(): void {
    this.aborted = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.stopSignal();
  }

  /** Docker ids of this task's containers, by container name. */
  get dockerIds(): ReadonlyMap<string, string> {
    return this.containers.ids;
  }

  /** Docker id of the task's network holder. */
  get holderId(): string | undefined {
    return this.containers.holderId;
  }

  /** Docker names of the task's volumes, by task-definition volume name. */
  get volumeNames(): ReadonlyMap<string, string> {
    return this.containers.volumes;
  }

  private finishSpotInterruption(): void {
    if (requestStop(this.task, 'SpotInterruption', undefined, Date.now())) this.env.onChange(this.task);
    this.stopSignal();
  }

  private get stopRequested(): boolean {
    return this.task.desiredStatus === 'STOPPED' || this.aborted;
  }

  private async run(): Promise<void> {
    const phases = this.env.phases();
    await this.pause(phases.provisioningMs + (this.faults.extraProvisioningMs ?? 0));
    if (!this.stopRequested) {
      this.allocateEni();
      await this.openNetwork();
    }
    if (!this.stopRequested) {
      this.enter('PENDING');
      await this.prepareContainers(phases.pendingMs);
    }
    if (!this.stopRequested) {
      this.enter('ACTIVATING');
      await this.pause(phases.activatingMs);
      if (this.faults.lateStartMs === undefined) await this.awaitPorts();
    }
    if (!this.stopRequested) {
      this.enter('RUNNING');
      this.keepWaitingContainersPending();
      this.armRunningFaults();
      await this.stopped;
    }
    await this.runStopSequence();
  }

  /**
   * With `portReadinessTimeoutMs` > 0, holds ACTIVATING until the processes behind the task's TCP ports listen
   * (bounded), so that RUNNING means "connectable". Off by default, as on AWS. The lateSshd fault skips this.
   */
  private async awaitPorts(): Promise<void> {
    const ports = this.tcpPorts();
    if (ports.length === 0 || !this.eni || this.env.portReadinessTimeoutMs <= 0) return;
    const deadline = Date.now() + this.env.portReadinessTimeoutMs;
    while (!this.stopRequested && Date.now() < deadline) {
      const ready = await Promise.all(ports.map((port) => portAccepts(this.eni!.privateIp, port)));
      if (ready.every(Boolean)) return;
      await this.pause(25);
    }
  }

  /**
   * Still PROVISIONING: starts the task's network holder and waits until each TCP port's path through Docker's proxy
   * works, so that a client probing the address from PENDING (as the driver does) is refused at once until the
   * container listens, rather than held by the proxy for about a second.
   */
  private async openNetwork(): Promise<void> {
    const addresses = this.addresses();
    try {
      // Not raced with a stop: the stop sequence removes the holder only once its id is known, so a StopTask during
      // its creation would otherwise leave it running.
      await this.containers.openNetwork(addresses);
      if (this.stopRequested) return;
      const paths = addresses.flatMap((address) => this.tcpPorts().map((port) => awaitProxyPath(address, port)));
      await Promise.race([Promise.all(paths), this.stopped]);
    } catch (error) {
      if (!this.aborted) this.failToStart(`CannotStartContainerError: ${(error as Error).message}`);
    }
  }

  /** Where the task's ports are published: its private address and, when assigned, its public one. */
  private addresses(): string[] {
    return [this.eni!.privateIp, ...(this.eni!.publicIp ? [this.eni!.publicIp] : [])];
  }

  /** The task's TCP container ports (awsvpc: one namespace, host port = container port). */
  private tcpPorts(): number[] {
    return taskPorts(this.taskDefinition)
      .filter((port) => port.endsWith('/tcp'))
      .map((port) => Number(port.split('/')[0]));
  }

  private allocateEni(): void {
    const privateIp = this.env.addresses.allocate();
    this.eni = {
      eniId: newEniId(),
      macAddress: newMacAddress(),
      privateIp,
      subnetId: this.network.subnetId,
      ...(this.network.assignPublicIp ? { publicIp: this.env.addresses.allocate() } : {}),
    };
  }

  /** PENDING: the image "pull" (a local lookup; nothing is ever pulled), container creation and start. */
  private async prepareContainers(pendingMs: number): Promise<void> {
    const failure = this.faults.startFailure;
    if (failure) {
      await this.pause(pendingMs);
      const image = this.taskDefinition.containerDefinitions[0]?.image ?? '';
      this.failToStart(`${failure.error}: ${failure.message ?? DEFAULT_FAILURE_TEXT[failure.error](image)}`);
      return;
    }
    const waited = this.pause(pendingMs);
    try {
      const platform = taskDockerPlatform(this.taskDefinition);
      for (const definition of this.taskDefinition.containerDefinitions) {
        const imagePlatform = await this.env.docker.imagePlatform(definition.image);
        if (imagePlatform !== platform) {
          await waited;
          const reason = imagePlatform
            ? platformMismatchReason(platform)
            : `CannotPullContainerError: ${DEFAULT_FAILURE_TEXT.CannotPullContainerError(definition.image)}`;
          this.failToStart(reason, definition.name);
          return;
        }
      }
      await this.containers.create(this.addresses());
      await waited;
      if (this.stopRequested) return;
      finishPull(this.task, Date.now());
      this.env.onChange(this.task);
      if (this.faults.lateStartMs === undefined) await Promise.race([this.containers.start(), this.stopped]);
    } catch (error) {
      await waited;
      if (!this.aborted) this.failToStart(`CannotStartContainerError: ${(error as Error).message}`);
    }
  }

  /** RUNNING marks every container RUNNING; those still waiting on `dependsOn` are PENDING until they start. */
  private keepWaitingContainersPending(): void {
    if (this.faults.lateStartMs !== undefined) return;
    for (const container of this.task.containers) {
      if (container.lastStatus === 'RUNNING' && this.containers.waiting(container.name)) container.lastStatus = 'PENDING';
    }
  }

  private failToStart(reason: string, containerName?: string): void {
    for (const container of this.task.containers) {
      if (!containerName || container.name === containerName) container.reason = reason;
    }
    this.stop('TaskFailedToStart', reason);
  }

  private armRunningFaults(): void {
    const { lateStartMs, spotInterruption } = this.faults;
    if (lateStartMs !== undefined) {
      this.later(lateStartMs, () => {
        if (!this.stopRequested) void this.containers.start().catch((error: Error) => this.stop('EssentialContainerExited', `CannotStartContainerError: ${error.message}`));
      });
    }
    if (spotInterruption) this.later(spotInterruption.afterRunningMs, () => this.interruptSpot(spotInterruption.noticeMs));
  }

  private async runStopSequence(): Promise<void> {
    if (this.aborted) return;
    const phases = this.env.phases();
    const reachedRunning = this.task.startedAt !== undefined;
    if (reachedRunning) {
      this.enter('DEACTIVATING');
      await this.sleep(phases.deactivatingMs);
      this.enter('STOPPING');
    }
    await this.containers.stop();
    if (this.aborted) return;
    if (this.eni) {
      this.enter('DEPROVISIONING');
      await this.containers.remove();
      await this.sleep(phases.deprovisioningMs);
    }
    this.enter('STOPPED');
    this.env.addresses.release(this.eni?.privateIp);
    this.env.addresses.release(this.eni?.publicIp);
    this.env.onStopped(this.task);
  }

  private enter(status: Task['lastStatus']): void {
    enterStatus(this.task, status, Date.now(), status === 'PENDING' ? this.eni : undefined);
    this.env.onChange(this.task);
  }

  /** Sleeps, waking early when the task is told to stop. */
  private pause(ms: number): Promise<void> {
    return Promise.race([this.sleep(ms), this.stopped]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}
