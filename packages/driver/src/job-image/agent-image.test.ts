import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { agentImageFor, taskArchitecture } from './agent-image.js';
import { DERIVED_NAMES, deriveTaskDefinition, type DeriveInput } from './derive.js';
import { TEMPLATE } from './test-template.js';

const AGENT = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1';
const ARM64_AGENT = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1-arm64';
const ARM64_TEMPLATE: TaskDefinition = { ...TEMPLATE, family: 'ci-coordinator-arm64', runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' } };

/** The image of the derived task's `gf-init` container, for a job with an image on `template`. */
function initImage(template: TaskDefinition, settings: DeriveInput['settings']): string | undefined {
  const derived = deriveTaskDefinition({
    template,
    helperContainerName: 'ci-coordinator',
    buildsDir: '/opt/gitlab-runner/builds',
    settings,
    image: { name: 'registry.example.com/team/app:1' },
    services: [],
  });
  return derived.input.containerDefinitions.find((container) => container.name === DERIVED_NAMES.init)?.image;
}

describe('the job agent of a task', () => {
  const settings = { agentImage: AGENT, arm64AgentImage: ARM64_AGENT, registryCredentials: [], familyPrefix: 'ci-coordinator-job' };

  it("takes the task definition's architecture, X86_64 when it names none", () => {
    expect(taskArchitecture(ARM64_TEMPLATE)).toBe('ARM64');
    expect(taskArchitecture(TEMPLATE)).toBe('X86_64');
    expect(taskArchitecture({})).toBe('X86_64');
  });

  it('is Arm64AgentImage in an ARM64 task and AgentImage in an X86_64 one: a task runs one architecture', () => {
    expect(initImage(ARM64_TEMPLATE, settings)).toBe(ARM64_AGENT);
    expect(initImage(TEMPLATE, settings)).toBe(AGENT);
    expect(initImage({ ...TEMPLATE, runtimePlatform: undefined }, settings)).toBe(AGENT);
  });

  it('is AgentImage in an ARM64 task when Arm64AgentImage is not set (a multi-platform image)', () => {
    const { arm64AgentImage: _unset, ...multiPlatform } = settings;
    expect(initImage(ARM64_TEMPLATE, multiPlatform)).toBe(AGENT);
    expect(agentImageFor('ARM64', {})).toBeUndefined();
  });
});
