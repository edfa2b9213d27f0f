import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server playing ECS's task metadata endpoint v4: `<uri>/task` answers `task` as JSON. */
export interface TaskMetadataEndpoint {
  /** The value ECS would give `ECS_CONTAINER_METADATA_URI_V4`. */
  readonly uri: string;
  /** How many requests reached `/task`. */
  hits(): number;
  close(): Promise<void>;
}

export async function startTaskMetadataEndpoint(task: unknown): Promise<TaskMetadataEndpoint> {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    const found = request.url === '/v4/test-container/task';
    if (found) hits++;
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(found ? task : {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/test-container`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
