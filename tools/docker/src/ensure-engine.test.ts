import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDockerEngine } from './ensure-engine.js';

describe('ensure-engine in an Amazon ECS task', () => {
  // A socket no engine listens on: as in a Fargate task, where nothing answers and dockerd cannot start.
  const dir = mkdtempSync(join(tmpdir(), 'ensure-engine-ecs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops before installing or starting anything, and says to run the unit tests or set DOCKER_HOST', async () => {
    const socket = join(dir, 'docker.sock');
    const env = { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/task', DOCKER_HOST: '', DOCKER_SOCK: socket };
    const error = await ensureDockerEngine({ env }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DockerEngineError', exitCode: 1 });
    expect(String((error as Error).message)).toBe(
      `ensure-engine: error: no Docker engine answers on unix://${socket}, and this is an Amazon ECS task (its metadata ` +
        'URI is set): dockerd cannot run here\n' +
        'ensure-engine: how to fix: run the unit tests alone (npx nx run-many -t test:unit), or set DOCKER_HOST to an ' +
        'engine this task can reach (see "Tests" in .gitlab-ci.yml)',
    );
  });
});
