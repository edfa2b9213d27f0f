import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { CpuArchitecture, JobImageSettings } from '@gitlab-fargate/config';

/** A task definition's CPU architecture as its `runtimePlatform` says (X86_64 when absent, as ECS assumes). */
export function taskArchitecture(template: Pick<TaskDefinition, 'runtimePlatform'>): CpuArchitecture {
  return template.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64';
}

/**
 * The job-agent image for a task of `architecture`. Fargate runs a task's containers on one architecture, so the
 * agent (`gf-init`, whose static binaries the build container runs) must be built for it: ARM64 takes
 * `[JobImages] Arm64AgentImage` when set, else `AgentImage`, which is then a multi-platform image.
 * @returns undefined when `AgentImage` is not set either
 */
export function agentImageFor(
  architecture: CpuArchitecture,
  settings: Pick<JobImageSettings, 'agentImage' | 'arm64AgentImage'>,
): string | undefined {
  return architecture === 'ARM64' ? (settings.arm64AgentImage ?? settings.agentImage) : settings.agentImage;
}
