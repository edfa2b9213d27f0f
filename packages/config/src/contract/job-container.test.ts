import { describe, expect, it } from 'vitest';
import { parseDriverConfig } from '../driver/parse.js';
import { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR, JOB_CONTAINER_NAME, SSH_PUBLIC_KEY_VARIABLE } from './job-container.js';

describe('the job-container contract', () => {
  it('is what the driver TOML defaults to', () => {
    const toml = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n';
    expect(parseDriverConfig(toml, { file: 'x.toml' }).config.fargate.containerName).toBe(JOB_CONTAINER_NAME);
  });

  it('names what the ci-coordinator image and gitlab-runner expect', () => {
    // The wire values themselves: changing one breaks every image and config.toml already deployed.
    expect({ JOB_CONTAINER_NAME, SSH_PUBLIC_KEY_VARIABLE, DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR }).toEqual({
      JOB_CONTAINER_NAME: 'ci-coordinator',
      SSH_PUBLIC_KEY_VARIABLE: 'SSH_PUBLIC_KEY',
      DEFAULT_BUILDS_DIR: '/opt/gitlab-runner/builds',
      DEFAULT_CACHE_DIR: '/opt/gitlab-runner/cache',
    });
  });
});
