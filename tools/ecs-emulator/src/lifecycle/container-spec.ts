import type { ContainerCreateSpec } from '../docker/docker-client.js';
import type { ContainerDefinition, ContainerOverride, KeyValuePair, Task, TaskDefinition } from '../ecs/model.js';

/** Docker labels every emulator container carries, so cleanup finds exactly its own. */
export const LABELS = {
  managed: 'gitlab-fargate.ecs-emulator',
  host: 'gitlab-fargate.ecs-emulator.host',
  instance: 'gitlab-fargate.ecs-emulator.instance',
  pid: 'gitlab-fargate.ecs-emulator.pid',
  taskArn: 'gitlab-fargate.ecs-emulator.task-arn',
  containerName: 'gitlab-fargate.ecs-emulator.container-name',
  /** On a multi-container task's network holder (value `holder`), which has no container name. */
  role: 'gitlab-fargate.ecs-emulator.role',
  /** On a task volume: its name in the task definition. */
  volumeName: 'gitlab-fargate.ecs-emulator.volume-name',
} as const;

/** The image of the network holder of multi-container tasks (its `sleep` is all that runs). @default 'local/debian:bookworm' */
export const DEFAULT_HOLDER_IMAGE = 'local/debian:bookworm';

/** What a container needs beyond its definition: where to publish and how to label. */
export interface ContainerPlacement {
  readonly task: Task;
  readonly taskDefinition: TaskDefinition;
  readonly region: string;
  /** Addresses the task's ports are published on: the private IP and, when assigned, the public one. */
  readonly addresses: readonly string[];
  readonly instanceLabels: Record<string, string>;
  /** Docker id of the task's network holder, whose network namespace the containers join (awsvpc shares one). */
  readonly networkOwnerId?: string;
  readonly applyResourceLimits: boolean;
  /** Docker volume names by task-definition volume name. */
  readonly volumes: ReadonlyMap<string, string>;
}

/** Environment as ECS builds it: definition, then override (same name wins), then what Fargate injects. */
export function containerEnvironment(
  definition: ContainerDefinition,
  override: ContainerOverride | undefined,
  placement: Pick<ContainerPlacement, 'task' | 'region' | 'taskDefinition'>,
): string[] {
  const merged = new Map<string, string>();
  const add = (pairs: KeyValuePair[] | undefined) => pairs?.forEach((pair) => merged.set(pair.name, pair.value));
  add(definition.environment);
  add(override?.environment);
  merged.set('AWS_EXECUTION_ENV', 'AWS_ECS_FARGATE');
  merged.set('AWS_REGION', placement.region);
  merged.set('AWS_DEFAULT_REGION', placement.region);
  return [...merged].map(([name, value]) => `${name}=${value}`);
}

/** Every port of every container of the task: in awsvpc mode they all live on the task's one ENI. */
export function taskPorts(taskDefinition: TaskDefinition): string[] {
  const ports = new Set<string>();
  for (const definition of taskDefinition.containerDefinitions) {
    for (const mapping of definition.portMappings ?? []) {
      if (mapping.containerPort !== undefined) ports.add(`${mapping.containerPort}/${(mapping.protocol ?? 'tcp').toLowerCase()}`);
    }
  }
  return [...ports];
}

type Mounts = NonNullable<ContainerCreateSpec['HostConfig']['Mounts']>;

/** The Docker mounts for a container's `mountPoints`. */
function containerMounts(definition: ContainerDefinition, volumes: ReadonlyMap<string, string>): Mounts {
  return (definition.mountPoints ?? []).map((mount) => ({
    Type: 'volume',
    Source: volumes.get(mount.sourceVolume)!,
    Target: mount.containerPath,
    ReadOnly: mount.readOnly === true,
  }));
}

/** Where the task's ports are published and who holds its network namespace. */
function networkConfig(placement: Pick<ContainerPlacement, 'taskDefinition' | 'addresses' | 'networkOwnerId'>): {
  Hostname?: string;
  ExposedPorts: Record<string, Record<string, never>>;
  HostConfig: Pick<ContainerCreateSpec['HostConfig'], 'PortBindings' | 'NetworkMode'>;
} {
  if (placement.networkOwnerId !== undefined) return { ExposedPorts: {}, HostConfig: { NetworkMode: `container:${placement.networkOwnerId}` } };
  const ports = taskPorts(placement.taskDefinition);
  const bindings = ports.map((port) => [port, placement.addresses.map((address) => ({ HostIp: address, HostPort: port.split('/')[0]! }))]);
  return {
    Hostname: `ip-${placement.addresses[0]!.replaceAll('.', '-')}`,
    ExposedPorts: Object.fromEntries(ports.map((port) => [port, {}])),
    HostConfig: { PortBindings: Object.fromEntries(bindings) as Record<string, { HostIp: string; HostPort: string }[]> },
  };
}

/**
 * The network holder of a task: owns the task's network namespace (its loopback address and every published port),
 * up before the task shows its address and while containers exit and start in any order, as the ENI on Fargate.
 */
export function holderSpec(image: string, placement: Pick<ContainerPlacement, 'task' | 'taskDefinition' | 'addresses' | 'instanceLabels'>): ContainerCreateSpec {
  const network = networkConfig(placement);
  return {
    Image: image,
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    ...(network.Hostname ? { Hostname: network.Hostname } : {}),
    Labels: { ...placement.instanceLabels, [LABELS.taskArn]: placement.task.taskArn, [LABELS.role]: 'holder' },
    ExposedPorts: network.ExposedPorts,
    HostConfig: network.HostConfig,
  };
}

/** Docker's HEALTHCHECK for an ECS `healthCheck` (seconds → nanoseconds). */
function dockerHealthcheck(definition: ContainerDefinition): Pick<ContainerCreateSpec, 'Healthcheck'> {
  const check = definition.healthCheck;
  if (!check) return {};
  const ns = (seconds: number) => seconds * 1e9;
  return {
    Healthcheck: {
      Test: check.command,
      Interval: ns(check.interval),
      Timeout: ns(check.timeout),
      Retries: check.retries,
      StartPeriod: ns(check.startPeriod ?? 0),
    },
  };
}

/** The Docker create request for one container of a task. */
export function containerSpec(definition: ContainerDefinition, placement: ContainerPlacement): ContainerCreateSpec {
  const { task } = placement;
  const override = task.overrides.containerOverrides.find((o) => o.name === definition.name);
  const command = override?.command ?? definition.command;
  const network = networkConfig(placement);
  const cpu = override?.cpu ?? definition.cpu;
  const memory = override?.memory ?? definition.memory;
  const taskCpu = Number(task.cpu);
  const taskMemory = Number(task.memory);
  const mounts = containerMounts(definition, placement.volumes);
  return {
    Image: definition.image,
    ...(command ? { Cmd: command } : {}),
    ...(definition.entryPoint ? { Entrypoint: definition.entryPoint } : {}),
    Env: containerEnvironment(definition, override, placement),
    ...(definition.workingDirectory ? { WorkingDir: definition.workingDirectory } : {}),
    ...(definition.user ? { User: definition.user } : {}),
    ...(network.Hostname ? { Hostname: network.Hostname } : {}),
    ...dockerHealthcheck(definition),
    Labels: {
      ...placement.instanceLabels,
      [LABELS.taskArn]: task.taskArn,
      [LABELS.containerName]: definition.name,
    },
    ExposedPorts: network.ExposedPorts,
    HostConfig: {
      ...network.HostConfig,
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      ...(placement.applyResourceLimits
        ? {
            // A container without its own limits gets the task's, as on Fargate where the task size is the cap.
            NanoCpus: Math.round(((cpu && cpu > 0 ? cpu : taskCpu) / 1024) * 1e9),
            Memory: (memory ?? taskMemory) * 1024 * 1024,
          }
        : {}),
    },
  };
}
