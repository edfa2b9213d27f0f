import type { ContainerDefinition, TaskOverride } from '@aws-sdk/client-ecs';
import { SystemFailure } from '../errors.js';
import { defaultServiceNames } from './aliases.js';
import type { JobService } from './payload.js';

/**
 * ECS's limits that a job's image and services can reach
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html and RunTask's API reference).
 */
export const ECS_TASK_LIMITS = {
  /** Containers per task definition. */
  containers: 10,
  /** Bytes of a task definition's JSON. */
  definitionBytes: 64 * 1024,
  /** Characters of RunTask's `overrides`, JSON syntax included. */
  overridesCharacters: 8192,
} as const;

/** Something over one of ECS's limits: the job fails at prepare, before RunTask, naming the limit. */
export class LimitExceeded extends SystemFailure {
  constructor(message: string) {
    super(message);
    this.name = 'LimitExceeded';
  }
}

/** What {@link checkDefinitionLimits} needs of a derived definition. */
interface Measured {
  readonly family: string;
  readonly input: { readonly containerDefinitions: readonly ContainerDefinition[] };
  readonly serviceContainerNames: readonly string[];
}

/** The size of a JSON value as the SDK sends it (awsJson1_1: `JSON.stringify`, `undefined` members left out), in bytes. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** The size of RunTask's `overrides` as the SDK sends them, in characters. */
export function overridesCharacters(overrides: TaskOverride): number {
  return JSON.stringify(overrides).length;
}

/**
 * Refuses a definition ECS would refuse: more than 10 containers, or over 64 KiB.
 * @throws LimitExceeded naming the limit and the numbers.
 */
export function checkDefinitionLimits(derived: Measured): void {
  const containers = derived.input.containerDefinitions;
  if (containers.length > ECS_TASK_LIMITS.containers) {
    const services = derived.serviceContainerNames.length;
    const room = ECS_TASK_LIMITS.containers - (containers.length - services);
    throw new LimitExceeded(
      `the job needs ${containers.length} containers (${containers.map((container) => container.name).join(', ')}), and a Fargate task ` +
        `definition holds at most ${ECS_TASK_LIMITS.containers}: this job may have at most ${room} services, it has ${services}`,
    );
  }
  const bytes = jsonBytes(derived.input);
  if (bytes > ECS_TASK_LIMITS.definitionBytes) {
    throw new LimitExceeded(
      `the job's task definition ${derived.family} is ${bytes} bytes, over ECS's limit of ${ECS_TASK_LIMITS.definitionBytes} bytes (64 KiB): ` +
        'use fewer services, or shorter entrypoints and commands',
    );
  }
}

/** A port and who listens on it, for clash messages. */
export interface PortOwner {
  readonly port: number;
  /** E.g. `service "postgres:16" (services[0])` or `the helper container "ci-coordinator"`. */
  readonly owner: string;
}

/**
 * Refuses two listeners on one port: the task's containers share one network namespace (awsvpc), so only one of them
 * could bind it. A service's ports are its `ports:` when given; two services of the same image without `ports:`
 * would listen on the image's port, whatever it is. `reserved` holds the ports of the task's own containers.
 * @throws SystemFailure naming both listeners and the port.
 */
export function checkServicePorts(services: readonly JobService[], reserved: readonly PortOwner[]): void {
  const byPort = new Map(reserved.map((owner) => [owner.port, owner.owner]));
  const byImage = new Map<string, string>();
  services.forEach((service, index) => {
    const who = `service ${JSON.stringify(service.name)} (services[${index}])`;
    for (const { number } of service.ports) {
      const other = byPort.get(number);
      if (other !== undefined) throw new SystemFailure(`${who} and ${other} both listen on port ${number}; the task's containers share one network: drop one, or give one another port`);
      byPort.set(number, who);
    }
    if (service.ports.length > 0) return;
    const image = defaultServiceNames(service.name)[0] ?? service.name;
    const other = byImage.get(image);
    if (other !== undefined) {
      throw new SystemFailure(
        `${who} and ${other} run the same image, so both would listen on its port; the task's containers share one network ` +
          '(as in a Kubernetes pod): run one of them, or give each its own port with a command and ports:',
      );
    }
    byImage.set(image, who);
  });
}
