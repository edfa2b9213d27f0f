import type { DockerClient } from '../docker/docker-client.js';
import { taskDockerPlatform } from '../ecs/cpu-architecture.js';
import type { Container, ContainerDefinition, HealthStatus, Task, TaskDefinition } from '../ecs/model.js';
import { containerSpec, holderSpec, type ContainerPlacement } from './container-spec.js';
import { StartScheduler } from './start-scheduler.js';
import { createTaskVolumes, removeVolumes } from './task-volumes.js';

/** Exit code the ECS agent records for a container it stopped because its dependencies can never resolve. */
const NEVER_STARTED_EXIT_CODE = 143;

/** What the containers need from the task around them. */
export interface ContainerSite {
  readonly docker: DockerClient;
  readonly region: string;
  readonly instanceLabels: Record<string, string>;
  readonly applyResourceLimits: boolean;
  readonly holderImage: string;
  /** Seconds between SIGTERM and SIGKILL when the container definition sets no `stopTimeout`. */
  readonly defaultStopTimeoutSeconds: number;
  /** An essential container exited or will never start: the task stops. */
  essentialStopped(): void;
  /** Something in `task.containers` changed (bump version, report). */
  changed(): void;
  /** True once the task is stopping or the emulator shut down. */
  stopping(): boolean;
  aborted(): boolean;
  later(ms: number, action: () => void): void;
}

/**
 * The Docker side of one task: its network holder, task volumes, one container per container definition started in
 * `dependsOn` order, exit and health watching, stop and removal.
 */
export class TaskContainers {
  /** Docker ids by container name. */
  readonly ids = new Map<string, string>();
  holderId?: string;
  /** Docker volume names by task-definition volume name. */
  volumes: ReadonlyMap<string, string> = new Map();
  private readonly started = new Set<string>();
  private scheduler?: StartScheduler;

  constructor(
    private readonly task: Task,
    private readonly taskDefinition: TaskDefinition,
    private readonly site: ContainerSite,
  ) {}

  /**
   * Creates and starts the network holder, which owns the task's network namespace (its addresses, hostname and every
   * published port) as the ENI does on Fargate, so that the namespace is up before any client learns the address.
   */
  async openNetwork(addresses: readonly string[]): Promise<void> {
    const placement = { task: this.task, taskDefinition: this.taskDefinition, addresses, instanceLabels: this.site.instanceLabels };
    const id = await this.site.docker.createContainer(holderSpec(this.site.holderImage, placement)).catch((error: Error) => {
      throw new Error(`the emulator's network holder (image ${this.site.holderImage}) could not be created: ${error.message}`);
    });
    if (this.site.aborted()) {
      // The emulator shut down while Docker was creating it: its cleanup has already listed containers.
      await this.site.docker.removeContainer(id);
      return;
    }
    this.holderId = id;
    await this.site.docker.startContainer(id);
  }

  /** Creates the volumes and the containers, in the namespace of the holder {@link openNetwork} started. */
  async create(addresses: readonly string[]): Promise<void> {
    const { docker } = this.site;
    const networkOwnerId = this.holderId;
    if (networkOwnerId === undefined) throw new Error('the task network is not open: openNetwork comes first');
    this.volumes = await createTaskVolumes(docker, this.task, this.taskDefinition, this.site.instanceLabels);
    const placement: ContainerPlacement = {
      task: this.task,
      taskDefinition: this.taskDefinition,
      region: this.site.region,
      addresses,
      instanceLabels: this.site.instanceLabels,
      applyResourceLimits: this.site.applyResourceLimits,
      volumes: this.volumes,
    };
    for (const definition of this.taskDefinition.containerDefinitions) {
      const spec = containerSpec(definition, { ...placement, networkOwnerId });
      const id = await docker.createContainer(spec, undefined, taskDockerPlatform(this.taskDefinition));
      if (this.site.aborted()) {
        // The emulator shut down while Docker was creating it: its cleanup has already listed containers.
        await docker.removeContainer(id);
        return;
      }
      this.ids.set(definition.name, id);
      this.containerOf(definition.name).runtimeId = id;
    }
  }

  /** Starts the containers in dependency order; resolves once every essential one started or never will. */
  async start(): Promise<void> {
    this.scheduler = new StartScheduler(this.taskDefinition.containerDefinitions, {
      start: (name) => this.startOne(name),
      neverStarts: (name, reason) => this.neverStarts(name, reason),
      health: (name) => this.health(name),
      healthChanged: (name, health) => this.healthChanged(name, health),
      later: (ms, action) => this.site.later(ms, action),
      active: () => !this.site.stopping(),
    });
    this.scheduler.begin();
    await this.scheduler.essentialsSettled;
  }

  /** Whether a container has not started yet (waiting on its dependencies). */
  waiting(name: string): boolean {
    return this.scheduler?.waiting(name) ?? true;
  }

  /** Sends a signal to every started container (Spot's TerminationNotice). */
  signal(signal: string): void {
    for (const id of this.started) void this.site.docker.killContainer(id, signal).catch(() => undefined);
  }

  private async startOne(name: string): Promise<void> {
    const id = this.ids.get(name);
    if (!id || this.site.aborted()) return;
    await this.site.docker.startContainer(id);
    this.started.add(id);
    this.containerOf(name).lastStatus = 'RUNNING';
    void this.watchExit(this.definitionOf(name), id);
  }

  private neverStarts(name: string, reason: string): void {
    const container = this.containerOf(name);
    container.lastStatus = 'STOPPED';
    container.exitCode = NEVER_STARTED_EXIT_CODE;
    container.reason = `CannotStartContainerError: ${reason}`;
    if (this.definitionOf(name).essential !== false) this.site.essentialStopped();
    else this.site.changed();
  }

  private async health(name: string): Promise<HealthStatus> {
    const status = (await this.site.docker.inspectContainer(this.ids.get(name)!)).State.Health?.Status;
    return status === 'healthy' ? 'HEALTHY' : status === 'unhealthy' ? 'UNHEALTHY' : 'UNKNOWN';
  }

  /** A container's health, and the task's: HEALTHY when every essential container is, UNHEALTHY when any is. */
  private healthChanged(name: string, health: HealthStatus): void {
    this.containerOf(name).healthStatus = health;
    const essential = this.task.containers.filter((c) => this.definitionOf(c.name).essential !== false);
    this.task.healthStatus = essential.some((c) => c.healthStatus === 'UNHEALTHY')
      ? 'UNHEALTHY'
      : essential.every((c) => c.healthStatus === 'HEALTHY')
        ? 'HEALTHY'
        : 'UNKNOWN';
    this.site.changed();
  }

  private async watchExit(definition: ContainerDefinition, id: string): Promise<void> {
    let exitCode: number;
    let oomKilled = false;
    try {
      exitCode = await this.site.docker.waitContainer(id);
      oomKilled = (await this.site.docker.inspectContainer(id)).State.OOMKilled;
    } catch {
      return; // removed underneath us (shutdown or cleanup): nothing to report
    }
    if (this.site.aborted()) return;
    const container = this.containerOf(definition.name);
    container.exitCode = exitCode;
    if (oomKilled) container.reason = 'OutOfMemoryError: Container killed due to memory usage';
    this.scheduler?.exited(definition.name, exitCode);
    if (definition.essential !== false) {
      this.site.essentialStopped();
    } else if (this.task.lastStatus !== 'STOPPED') {
      container.lastStatus = 'STOPPED';
      this.site.changed();
    }
  }

  /** SIGTERM, then SIGKILL after the container's stopTimeout; records exit codes of containers that ran. */
  async stop(): Promise<void> {
    await Promise.all(
      this.taskDefinition.containerDefinitions.map(async (definition) => {
        const id = this.ids.get(definition.name);
        if (!id || !this.started.has(id)) return;
        try {
          await this.site.docker.stopContainer(id, definition.stopTimeout ?? this.site.defaultStopTimeoutSeconds);
          const state = (await this.site.docker.inspectContainer(id)).State;
          const container = this.containerOf(definition.name);
          if (container.exitCode === undefined) container.exitCode = state.ExitCode;
        } catch {
          // Already gone (removed by a cleanup): the exit code stays unknown, as on AWS when the agent lost it.
        }
      }),
    );
  }

  /** Removes the containers, then the holder and the task volumes. */
  async remove(): Promise<void> {
    const { docker } = this.site;
    await Promise.all([...this.ids.values()].map((id) => docker.removeContainer(id).catch(() => undefined)));
    if (this.holderId) await docker.removeContainer(this.holderId).catch(() => undefined);
    await removeVolumes(docker, this.volumes.values());
  }

  private containerOf(name: string): Container {
    return this.task.containers.find((c) => c.name === name)!;
  }

  private definitionOf(name: string): ContainerDefinition {
    return this.taskDefinition.containerDefinitions.find((d) => d.name === name)!;
  }
}
