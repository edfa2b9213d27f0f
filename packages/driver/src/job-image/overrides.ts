import type { ContainerOverride, KeyValuePair, TaskOverride } from '@aws-sdk/client-ecs';
import { JOB_AGENT_ENV } from '@gitlab-fargate/config';
import { ECS_TASK_LIMITS, LimitExceeded, overridesCharacters } from './limits.js';
import type { EnvironmentEntry, ServiceEnvironment } from './service-env.js';

/** The per-job values of a derived task, which RunTask's overrides carry (never the task definition). */
export interface DerivedTaskOverridesInput {
  /** Task-level overrides (cpu, memory, ephemeral storage) that count towards the same limit. */
  readonly task?: Omit<TaskOverride, 'containerOverrides'>;
  readonly helperContainerName: string;
  /** The helper's own environment (today's `SSH_PUBLIC_KEY`, …). */
  readonly helperEnvironment: Readonly<Record<string, string>>;
  /** Absent when the job named no image. */
  readonly build?: {
    readonly containerName: string;
    readonly sshPublicKey: string;
    /** Service host names for the agent's `/etc/hosts`. */
    readonly hostnames: readonly string[];
    /** `image: docker: user:`; absent = root. */
    readonly user?: string;
  };
  /** Per service container, in order: its name and environment. */
  readonly services: readonly { readonly containerName: string; readonly environment: ServiceEnvironment }[];
}

/** RunTask's `overrides`, and what had to be left out to fit. */
export interface DerivedTaskOverrides {
  readonly overrides: TaskOverride;
  /** `svc-N: NAME` for each inherited job variable left out of a service to fit ECS's limit (largest first). */
  readonly dropped: readonly string[];
  /** Characters of `overrides` as the SDK sends them. */
  readonly characters: number;
}

const pairs = (entries: readonly EnvironmentEntry[]): KeyValuePair[] => entries.map(({ name, value }) => ({ name, value }));

function buildOverride(build: NonNullable<DerivedTaskOverridesInput['build']>): ContainerOverride {
  return {
    name: build.containerName,
    environment: [
      { name: JOB_AGENT_ENV.sshPublicKey, value: build.sshPublicKey },
      { name: JOB_AGENT_ENV.hosts, value: build.hostnames.join(' ') },
      { name: JOB_AGENT_ENV.jobUser, value: build.user ?? '' },
    ],
  };
}

function assemble(input: DerivedTaskOverridesInput, services: readonly EnvironmentEntry[][]): TaskOverride {
  const helperEnvironment = Object.entries(input.helperEnvironment).map(([name, value]) => ({ name, value }));
  const helper: ContainerOverride = { name: input.helperContainerName, environment: helperEnvironment };
  const containers = [
    helper,
    ...(input.build === undefined ? [] : [buildOverride(input.build)]),
    ...input.services.map((service, index) => ({ name: service.containerName, environment: pairs(services[index] ?? []) })),
  ];
  return { ...input.task, containerOverrides: containers };
}

/**
 * RunTask's overrides for a derived task, within ECS's 8 192 characters. When the services' environments do not fit,
 * the job variables they inherit are left out, largest first, until they do (the services' own `variables:` and the
 * helper's and build container's values always stay), and `dropped` names them for the job log.
 * @throws LimitExceeded when even that is not enough, naming the limit and the numbers.
 */
export function derivedTaskOverrides(input: DerivedTaskOverridesInput): DerivedTaskOverrides {
  const services = input.services.map((service) => [...service.environment.environment]);
  let overrides = assemble(input, services);
  let characters = overridesCharacters(overrides);
  const dropped: string[] = [];
  if (characters > ECS_TASK_LIMITS.overridesCharacters) {
    const candidates = input.services
      .flatMap((service, index) => {
        const inherited = service.environment.environment.slice(0, service.environment.environment.length - service.environment.ownCount);
        return inherited.map((entry) => ({ index, entry, size: JSON.stringify(entry).length + 1 }));
      })
      .sort((a, b) => b.size - a.size);
    for (const candidate of candidates) {
      if (characters <= ECS_TASK_LIMITS.overridesCharacters) break;
      const list = services[candidate.index] as EnvironmentEntry[];
      list.splice(list.indexOf(candidate.entry), 1);
      dropped.push(`${input.services[candidate.index]?.containerName}: ${candidate.entry.name}`);
      characters -= candidate.size;
    }
    overrides = assemble(input, services);
    characters = overridesCharacters(overrides);
  }
  if (characters > ECS_TASK_LIMITS.overridesCharacters) {
    throw new LimitExceeded(
      `RunTask's overrides for this job are ${characters} characters, over ECS's limit of ${ECS_TASK_LIMITS.overridesCharacters}, even with ` +
        "no job variables passed to the services: shorten the services' own variables, or use fewer services",
    );
  }
  return { overrides, dropped, characters };
}
