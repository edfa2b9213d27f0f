import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../../test/paths.js';
import { MisconfiguredError } from './exit-codes.js';
import { MANAGER_ID_PATTERN, resolveManagerId } from './manager-id.js';
import { MANAGER_ID_VARIABLE } from './variables.js';

/** Plays ECS's task metadata endpoint v4: `/task` answers `answer` with `status`. */
async function metadataEndpoint(status: number, answer: unknown): Promise<{ uri: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    hits++;
    response.writeHead(request.url === '/v4/abc/task' ? status : 404, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/abc`, server, hits: () => hits };
}

describe('resolveManagerId', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });
  const noSleep = async (): Promise<void> => {};

  it.each([
    ['arn:aws:ecs:eu-west-1:123456789012:task/gitlab-ci-dev/0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef'],
    ['arn:aws:ecs:eu-west-1:123456789012:task/5ae8a2d0-1f2b-4c3d-9e8f-0a1b2c3d4e5f', '5ae8a2d0-1f2b-4c3d-9e8f-0a1b2c3d4e5f'],
  ])('is the ECS task ID of TaskARN %s', async (arn, id) => {
    const endpoint = await metadataEndpoint(200, { TaskARN: arn, Cluster: 'gitlab-ci-dev' });
    server = endpoint.server;
    expect(await resolveManagerId({ ECS_CONTAINER_METADATA_URI_V4: endpoint.uri }, noSleep)).toEqual({
      id,
      source: 'the ECS task ID (ECS_CONTAINER_METADATA_URI_V4/task)',
    });
  });

  it('is the host name outside ECS, in the form the driver accepts, saying so', async () => {
    const { id, source } = await resolveManagerId({}, noSleep);
    expect(id).toBe(hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 64));
    expect(id).toMatch(MANAGER_ID_PATTERN);
    expect(source).toBe("ECS_CONTAINER_METADATA_URI_V4 is not set (not an ECS task): this host's name");
    expect((await resolveManagerId({}, noSleep, () => 'ip-10-0-1-2.ec2.internal')).id).toBe('ip-10-0-1-2-ec2-internal');
    expect((await resolveManagerId({}, noSleep, () => 'x'.repeat(80))).id).toBe('x'.repeat(64));
  });

  it('keeps a value given to the container, and refuses one the driver would refuse', async () => {
    expect((await resolveManagerId({ GITLAB_FARGATE_MANAGER_ID: 'm-1', ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:9' }, noSleep)).id).toBe('m-1');
    const wrong = resolveManagerId({ GITLAB_FARGATE_MANAGER_ID: 'ip-10-0-1-2.ec2.internal' }, noSleep);
    await expect(wrong).rejects.toThrow(MisconfiguredError);
    await expect(resolveManagerId({ GITLAB_FARGATE_MANAGER_ID: 'a.b' }, noSleep)).rejects.toThrow(
      'GITLAB_FARGATE_MANAGER_ID is "a.b": give 1 to 64 letters, digits or -, or leave it unset for the ECS task ID',
    );
  });

  it("is checked as the driver checks it (MANAGER_ID in packages/driver/src/job/environment.ts)", () => {
    const source = readFileSync(join(PACKAGE_DIR, '../driver/src/job/environment.ts'), 'utf8');
    expect(source).toContain(`export const MANAGER_ID_VARIABLE = '${MANAGER_ID_VARIABLE}';`);
    expect(source).toContain(`const MANAGER_ID = ${MANAGER_ID_PATTERN.toString()};`);
  });

  it('fails the start after three attempts when the endpoint gives no task ARN, rather than tag tasks wrongly', async () => {
    const endpoint = await metadataEndpoint(500, {});
    server = endpoint.server;
    await expect(resolveManagerId({ ECS_CONTAINER_METADATA_URI_V4: endpoint.uri }, noSleep)).rejects.toThrow(
      `cannot find this manager's ECS task ID at ${endpoint.uri}/task: HTTP 500`,
    );
    expect(endpoint.hits()).toBe(3);
  });

  it('refuses an answer whose TaskARN is not a task ARN', async () => {
    const endpoint = await metadataEndpoint(200, { TaskARN: 'not-an-arn' });
    server = endpoint.server;
    await expect(resolveManagerId({ ECS_CONTAINER_METADATA_URI_V4: endpoint.uri }, noSleep)).rejects.toThrow(/TaskARN "not-an-arn" is not an ECS task ARN/);
  });
});
