import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, TaskDefinition, Volume } from '@aws-sdk/client-ecs';
import {
  JOB_AGENT_BUSYBOX,
  JOB_AGENT_CONTAINER_USER,
  JOB_AGENT_DEFAULT_SSH_PORT,
  JOB_AGENT_DIR,
  JOB_AGENT_ENTRY_POINT,
  JOB_AGENT_ENV,
  matchesImagePattern,
  type JobImageSettings,
  type RegistryCredential,
} from '@gitlab-fargate/config';
import { SystemFailure } from '../errors.js';
import { agentImageFor, taskArchitecture } from './agent-image.js';
import { contentHash } from './content.js';
import { familyName } from './hash.js';
import { checkDefinitionLimits, checkServicePorts, type PortOwner } from './limits.js';
import type { JobImage, JobService } from './payload.js';

/** Container and volume names in a derived task definition. */
export const DERIVED_NAMES = {
  init: 'gf-init',
  build: 'build',
  servicePrefix: 'svc-',
  toolsVolume: 'gf-tools',
  buildsVolume: 'builds',
} as const;

/** Tags on every derived task definition: gc retires only what carries `managed`. */
export const TASK_DEFINITION_TAGS = {
  managed: 'gitlab-fargate:managed',
  hash: 'gitlab-fargate:hash',
  image: 'gitlab-fargate:image',
  lastUsed: 'gitlab-fargate:last-used',
} as const;

/** What a job's task definition is derived from. */
export interface DeriveInput {
  /** The configured task definition, as DescribeTaskDefinition returns it. */
  readonly template: TaskDefinition;
  /** The template's SSH container (`[Fargate] ContainerName`): the helper for runner-internal stages. */
  readonly helperContainerName: string;
  /** gitlab-runner's `builds_dir`: the `builds` volume is mounted there in the helper and the build container. */
  readonly buildsDir: string;
  readonly settings: Pick<JobImageSettings, 'agentImage' | 'arm64AgentImage' | 'registryCredentials' | 'familyPrefix'>;
  /** The job's image; absent = services beside the helper only (no agent, no build container). */
  readonly image?: JobImage;
  readonly services: readonly JobService[];
}

/** A job's task definition, ready for RegisterTaskDefinition. */
export interface DerivedTaskDefinition {
  /** sha256 (hex) of the definition's content (`contentHash`: without family, tags and ECS's defaults): the cache key. */
  readonly hash: string;
  /** `<FamilyPrefix>-<first 16 hex digits of hash>`. */
  readonly family: string;
  /** RegisterTaskDefinition's input: the definition, its family and its tags. */
  readonly input: RegisterTaskDefinitionCommandInput & { family: string; containerDefinitions: ContainerDefinition[] };
  readonly helperContainerName: string;
  /** `build`, or undefined when the job named no image. */
  readonly buildContainerName?: string;
  /** `svc-0`, `svc-1`, … in the order of `services:`. */
  readonly serviceContainerNames: readonly string[];
}

/** The registry host of an image reference, as Docker decides it: `docker.io` unless the first part looks like a host. */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  return first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** `repositoryCredentials` for an image from the first matching `[[JobImages.RegistryCredentials]]`, if any. */
export function credentialsFor(image: string, credentials: readonly RegistryCredential[]): Pick<ContainerDefinition, 'repositoryCredentials'> {
  const registry = registryOf(image);
  const match = credentials.find((credential) => matchesImagePattern(credential.registry, registry));
  return match === undefined ? {} : { repositoryCredentials: { credentialsParameter: match.secretArn } };
}

/** The template's task-level settings a derived definition keeps (roles, network, size, platform). */
function taskLevel(template: TaskDefinition): Omit<RegisterTaskDefinitionCommandInput, 'family' | 'containerDefinitions'> {
  const { taskRoleArn, executionRoleArn, networkMode, requiresCompatibilities, cpu, memory } = template;
  const { runtimePlatform, ephemeralStorage, pidMode, ipcMode, proxyConfiguration } = template;
  return {
    ...{ taskRoleArn, executionRoleArn, networkMode, requiresCompatibilities, cpu, memory },
    ...{ runtimePlatform, ephemeralStorage, pidMode, ipcMode, proxyConfiguration },
  };
}

function initContainer(agentImage: string, credentials: readonly RegistryCredential[]): ContainerDefinition {
  return {
    name: DERIVED_NAMES.init,
    image: agentImage,
    essential: false,
    // The image declares VOLUME /opt/gf: mounting the task volume at that path copies the tools in (ECS bind mounts).
    command: [JOB_AGENT_BUSYBOX, 'true'],
    mountPoints: [{ sourceVolume: DERIVED_NAMES.toolsVolume, containerPath: JOB_AGENT_DIR }],
    ...credentialsFor(agentImage, credentials),
  };
}

/** The agent's entry point; `[]` and `[""]` (GitLab's way to clear an entrypoint) mean "none given". */
function hasEntrypoint(entrypoint: readonly string[] | undefined): entrypoint is readonly string[] {
  return entrypoint !== undefined && entrypoint.some((part) => part !== '');
}

/**
 * The build container: the job's image, started as root by the agent's entry script, which writes the hosts, the
 * passwd entry and the key and starts the SSH server on 2222. With `image: entrypoint:`, that entry point runs instead
 * and gets the agent's start command as its arguments: like the Docker executor, it must end by running them
 * (`exec "$@"`), else the job cannot be reached.
 */
function buildContainer(image: JobImage, helper: ContainerDefinition, input: DeriveInput): ContainerDefinition {
  const agent = [...JOB_AGENT_ENTRY_POINT];
  const start = hasEntrypoint(image.entrypoint) ? { entryPoint: [...image.entrypoint], command: agent } : { entryPoint: agent };
  return {
    name: DERIVED_NAMES.build,
    image: image.name,
    essential: true,
    user: JOB_AGENT_CONTAINER_USER,
    ...start,
    environment: [{ name: JOB_AGENT_ENV.sshPort, value: String(JOB_AGENT_DEFAULT_SSH_PORT) }],
    portMappings: [{ containerPort: JOB_AGENT_DEFAULT_SSH_PORT, protocol: 'tcp' }],
    dependsOn: [{ containerName: DERIVED_NAMES.init, condition: 'SUCCESS' }],
    mountPoints: [
      { sourceVolume: DERIVED_NAMES.toolsVolume, containerPath: JOB_AGENT_DIR, readOnly: true },
      { sourceVolume: DERIVED_NAMES.buildsVolume, containerPath: input.buildsDir },
    ],
    ...(helper.logConfiguration === undefined ? {} : { logConfiguration: helper.logConfiguration }),
    ...credentialsFor(image.name, input.settings.registryCredentials),
  };
}

function serviceContainer(
  service: JobService,
  index: number,
  helper: ContainerDefinition,
  credentials: readonly RegistryCredential[],
): ContainerDefinition {
  return {
    name: `${DERIVED_NAMES.servicePrefix}${index}`,
    image: service.name,
    essential: false,
    ...(hasEntrypoint(service.entrypoint) ? { entryPoint: [...service.entrypoint] } : {}),
    ...(service.command === undefined || service.command.length === 0 ? {} : { command: [...service.command] }),
    ...(helper.logConfiguration === undefined ? {} : { logConfiguration: helper.logConfiguration }),
    ...credentialsFor(service.name, credentials),
  };
}

/** The template's containers, the helper with the builds volume added; refuses names the derivation needs. */
function templateContainers(input: DeriveInput): { containers: ContainerDefinition[]; helper: ContainerDefinition } {
  const containers = input.template.containerDefinitions ?? [];
  const reserved = (name: string): boolean => name === DERIVED_NAMES.init || name === DERIVED_NAMES.build || /^svc-\d+$/.test(name);
  const clash = containers.find((container) => reserved(container.name ?? ''));
  const family = input.template.family ?? 'the task definition';
  if (clash !== undefined) {
    throw new SystemFailure(`task definition ${family} has a container named ${JSON.stringify(clash.name)}, a name [JobImages] needs for its own: rename it`);
  }
  const helper = containers.find((container) => container.name === input.helperContainerName);
  if (helper === undefined) {
    throw new SystemFailure(`task definition ${family} has no container named ${JSON.stringify(input.helperContainerName)} ([Fargate] ContainerName): set ContainerName to its SSH container`);
  }
  const builds = { sourceVolume: DERIVED_NAMES.buildsVolume, containerPath: input.buildsDir };
  const withBuilds: ContainerDefinition = { ...helper, mountPoints: [...(helper.mountPoints ?? []), builds] };
  return { containers: containers.map((container) => (container === helper ? withBuilds : container)), helper: withBuilds };
}

/** The ports the task's own containers listen on: the template's port mappings, and the agent's 2222. */
function reservedPorts(containers: readonly ContainerDefinition[], withAgent: boolean): PortOwner[] {
  const template = containers.flatMap((container) =>
    (container.portMappings ?? []).flatMap((mapping) => (mapping.containerPort === undefined ? [] : [{ port: mapping.containerPort, owner: `the task definition's container ${JSON.stringify(container.name)}` }])),
  );
  return withAgent ? [...template, { port: JOB_AGENT_DEFAULT_SSH_PORT, owner: "the job agent's SSH server in the build container" }] : template;
}

function volumes(template: TaskDefinition, withTools: boolean): Volume[] {
  const own = [DERIVED_NAMES.buildsVolume, ...(withTools ? [DERIVED_NAMES.toolsVolume] : [])];
  const existing = template.volumes ?? [];
  const clash = existing.find((volume) => own.includes(volume.name as 'builds'));
  if (clash !== undefined) {
    throw new SystemFailure(`task definition ${template.family ?? ''} has a volume named ${JSON.stringify(clash.name)}, a name [JobImages] needs for its own: rename it`);
  }
  return [...existing, ...own.map((name) => ({ name }))];
}

/**
 * Derives the job's task definition from the configured one: the template's roles, network mode, size and platform;
 * its containers (the helper gets the `builds` volume); `gf-init` and `build` when the job names an image; one
 * non-essential `svc-N` per service. Per-job values (keys, hosts, user, service environments) are not part of it:
 * they go into RunTask's overrides, so jobs with the same image and services share one definition.
 * @throws SystemFailure for a template the derivation cannot use, or a definition over ECS's limits.
 */
export function deriveTaskDefinition(input: DeriveInput): DerivedTaskDefinition {
  const { containers, helper } = templateContainers(input);
  checkServicePorts(input.services, reservedPorts(containers, input.image !== undefined));
  const { registryCredentials, familyPrefix } = input.settings;
  const agentImage = agentImageFor(taskArchitecture(input.template), input.settings);
  if (input.image !== undefined && agentImage === undefined) throw new SystemFailure('[JobImages] AgentImage is not set: the job image cannot be reached without the agent');
  const agent =
    input.image === undefined || agentImage === undefined
      ? []
      : [initContainer(agentImage, registryCredentials), buildContainer(input.image, helper, input)];
  const services = input.services.map((service, index) => serviceContainer(service, index, helper, registryCredentials));
  const definition = {
    ...taskLevel(input.template),
    volumes: volumes(input.template, agent.length > 0),
    containerDefinitions: [...(agent.length > 0 ? [agent[0] as ContainerDefinition] : []), ...containers, ...agent.slice(1), ...services],
  };
  const hash = contentHash(definition);
  const family = familyName(familyPrefix, hash);
  const tags = [
    { key: TASK_DEFINITION_TAGS.managed, value: 'true' },
    { key: TASK_DEFINITION_TAGS.hash, value: hash },
    ...(input.image === undefined ? [] : [{ key: TASK_DEFINITION_TAGS.image, value: input.image.name.slice(0, 256) }]),
  ];
  const derived: DerivedTaskDefinition = {
    hash,
    family,
    input: { family, ...definition, tags },
    helperContainerName: input.helperContainerName,
    ...(agent.length > 0 ? { buildContainerName: DERIVED_NAMES.build } : {}),
    serviceContainerNames: services.map((service) => service.name as string),
  };
  checkDefinitionLimits(derived);
  return derived;
}
