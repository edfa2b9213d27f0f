import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProbeOutput, portProbeCommand } from './services-wait.js';

let servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
});

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const port = await listening();
  const server = servers.pop() as Server;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the port probe the helper runs', () => {
  it('prints the ports that accept a connection on the loopback, and only those', async () => {
    const open = await listening();
    const closed = await closedPort();
    const run = spawnSync('sh', ['-c', portProbeCommand([closed, open])], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect([...parseProbeOutput(run.stdout)]).toEqual([open]);
  });

  it('keeps anything but port numbers out of the command', () => {
    expect(portProbeCommand([5432, 0, 70000, 1.5, 6379])).toContain('for port in 5432 6379;');
  });
});
