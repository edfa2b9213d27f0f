import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveManagerId } from './manager-id.js';

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

  it('is the host name outside ECS, saying so', async () => {
    expect(await resolveManagerId({}, noSleep)).toEqual({ id: hostname(), source: "ECS_CONTAINER_METADATA_URI_V4 is not set (not an ECS task): this host's name" });
  });

  it('keeps a value given to the container', async () => {
    expect((await resolveManagerId({ GITLAB_FARGATE_MANAGER_ID: 'm-1', ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:9' }, noSleep)).id).toBe('m-1');
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
