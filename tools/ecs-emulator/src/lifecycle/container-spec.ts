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
} as const;

/** What a container needs beyond its definition: where to publish and how to label. */
export interface ContainerPlacement {
  readonly task: Task;
  readonly taskDefinition: TaskDefinition;
  readonly region: string;
  /** Addresses the task's ports are published on: the private IP and, when assigned, the public one. */
  readonly addresses: readonly string[];
  readonly instanceLabels: Record<string, string>;
  /** Docker id of the task's first container, whose network namespace the others join (awsvpc shares one). */
  readonly networkOwnerId?: string;
  readonly applyResourceLimits: boolean;
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

/** The Docker create request for one container of a task. */
export function containerSpec(definition: ContainerDefinition, placement: ContainerPlacement): ContainerCreateSpec {
  const { task, taskDefinition } = placement;
  const override = task.overrides.containerOverrides.find((o) => o.name === definition.name);
  const command = override?.command ?? definition.command;
  const ownsNetwork = placement.networkOwnerId === undefined;
  const ports = ownsNetwork ? taskPorts(taskDefinition) : [];
  const cpu = override?.cpu ?? definition.cpu;
  const memory = override?.memory ?? definition.memory;
  const taskCpu = Number(task.cpu);
  const taskMemory = Number(task.memory);
  return {
    Image: definition.image,
    ...(command ? { Cmd: command } : {}),
    ...(definition.entryPoint ? { Entrypoint: definition.entryPoint } : {}),
    Env: containerEnvironment(definition, override, placement),
    ...(definition.workingDirectory ? { WorkingDir: definition.workingDirectory } : {}),
    ...(definition.user ? { User: definition.user } : {}),
    ...(ownsNetwork ? { Hostname: `ip-${placement.addresses[0]!.replaceAll('.', '-')}` } : {}),
    Labels: {
      ...placement.instanceLabels,
      [LABELS.taskArn]: task.taskArn,
      [LABELS.containerName]: definition.name,
    },
    ExposedPorts: Object.fromEntries(ports.map((port) => [port, {}])),
    HostConfig: {
      ...(ownsNetwork
        ? {
            PortBindings: Object.fromEntries(
              ports.map((port) => [
                port,
                placement.addresses.map((address) => ({ HostIp: address, HostPort: port.split('/')[0]! })),
              ]),
            ),
          }
        : { NetworkMode: `container:${placement.networkOwnerId}` }),
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
