import { clientException } from '../wire/aws-error.js';
import type { TaskDefinition } from './model.js';

/** `runtimePlatform.cpuArchitecture` values Fargate takes, and the Docker platform each runs containers as. */
export const CPU_ARCHITECTURES = { X86_64: 'linux/amd64', ARM64: 'linux/arm64' } as const;

/** A Fargate CPU architecture. */
export type CpuArchitecture = keyof typeof CPU_ARCHITECTURES;

/** Refuses a `cpuArchitecture` Fargate does not know, at RegisterTaskDefinition as AWS does. */
export function checkCpuArchitecture(runtimePlatform: { cpuArchitecture?: unknown } | undefined): void {
  const value = runtimePlatform?.cpuArchitecture;
  if (value === undefined || Object.hasOwn(CPU_ARCHITECTURES, String(value))) return;
  throw clientException(`Invalid runtimePlatform.cpuArchitecture '${String(value)}': expected one of ${Object.keys(CPU_ARCHITECTURES).join(', ')}.`);
}

/** The task's architecture: its definition's `runtimePlatform.cpuArchitecture`, X86_64 when unset. */
export function taskCpuArchitecture(definition: Pick<TaskDefinition, 'runtimePlatform'>): CpuArchitecture {
  const value = definition.runtimePlatform?.cpuArchitecture;
  return value === 'ARM64' ? 'ARM64' : 'X86_64';
}

/** The Docker platform (`linux/arm64`) the task's containers run as. */
export function taskDockerPlatform(definition: Pick<TaskDefinition, 'runtimePlatform'>): string {
  return CPU_ARCHITECTURES[taskCpuArchitecture(definition)];
}

/**
 * The stop reason of a task whose image has no variant for the task's platform, as the Fargate agent words it
 * (for an arm64-only image on X86_64 it names 'linux/amd64').
 */
export function platformMismatchReason(platform: string): string {
  return `CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain descriptor matching platform '${platform}'`;
}
