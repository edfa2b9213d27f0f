import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerApiError, DockerClient } from './docker-client.js';

// A stand-in engine on a Unix socket: answers are scripted per request, so races the real engine shows only
// under load (a removal already in progress) can be played on demand.
let server: http.Server | undefined;
let dir: string | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

async function engine(answer: (method: string, path: string) => [number, object]): Promise<{ client: DockerClient; requests: string[] }> {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = mkdtempSync(join(tmpdir(), 'docker-client-test-'));
  const socketPath = join(dir, 'docker.sock');
  const requests: string[] = [];
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const [status, body] = answer(req.method ?? '', req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  return { client: new DockerClient(socketPath), requests };
}

describe('DockerClient.removeContainer', () => {
  it('waits for a removal already in progress (409) instead of failing', async () => {
    let inspections = 0;
    const { client, requests } = await engine((method) => {
      if (method === 'DELETE') return [409, { message: 'removal of container abc is already in progress' }];
      inspections++;
      return inspections < 3 ? [200, { Id: 'abc' }] : [404, { message: 'No such container: abc' }];
    });
    await client.removeContainer('abc');
    expect(requests).toEqual(['DELETE /v1.41/containers/abc?force=true&v=true', ...Array(3).fill('GET /v1.41/containers/abc/json')]);
  });

  it('treats a missing container as removed, and still reports other errors', async () => {
    const gone = await engine(() => [404, { message: 'No such container' }]);
    await expect(gone.client.removeContainer('abc')).resolves.toBeUndefined();
    await new Promise((resolve) => server!.close(resolve));
    const broken = await engine(() => [500, { message: 'driver failed' }]);
    await expect(broken.client.removeContainer('abc')).rejects.toBeInstanceOf(DockerApiError);
  });
});
