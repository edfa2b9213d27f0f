import net from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyMismatch, SshConnectError, sshTransport } from './connect.js';
import { generateJobKeyPair } from './keys.js';
import type { TransportTarget } from './transport.js';

/** An SSH server in this process (ssh2's), with its own host key; it counts the clients that tried to log in. */
async function startServer(): Promise<{ port: number; hostKey: string; logins: () => number; stop: () => Promise<void> }> {
  const host = generateJobKeyPair('host-key-pinning-test-host');
  let logins = 0;
  const server = new ssh2.Server({ hostKeys: [host.privateKey] }, (client) => {
    client.on('authentication', (context) => {
      logins++;
      context.accept();
    });
    client.on('error', () => {});
  });
  const port = await listen(server);
  return {
    port,
    hostKey: host.publicKey.split(' ')[1] as string,
    logins: () => logins,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function listen(server: net.Server | ssh2.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('SSH host-key pinning (in-process server)', () => {
  const job = generateJobKeyPair('host-key-pinning-test-job');
  let server: Awaited<ReturnType<typeof startServer>>;
  let target: TransportTarget;

  beforeAll(async () => {
    server = await startServer();
    target = { host: '127.0.0.1', port: server.port, username: 'root', privateKey: job.privateKey };
  });
  afterAll(() => server?.stop());

  it('reports the key the server presented at first contact, for prepare to pin', async () => {
    const connection = await sshTransport.connect(target);
    connection.close();
    expect(connection.hostKey).toBe(server.hostKey);
  });

  it('connects when the server presents the pinned key', async () => {
    const connection = await sshTransport.connect({ ...target, hostKey: server.hostKey });
    connection.close();
    expect(connection.hostKey).toBe(server.hostKey);
  });

  it('refuses another key before offering the job key, naming the address and both keys', async () => {
    const pinned = generateJobKeyPair('another-host').publicKey.split(' ')[1] as string;
    const before = server.logins();
    const attempt = sshTransport.connect({ ...target, hostKey: pinned });
    await expect(attempt).rejects.toBeInstanceOf(HostKeyMismatch);
    await expect(attempt).rejects.toThrow(
      `the SSH host key of 127.0.0.1:${server.port} changed since first contact (pinned …${pinned.slice(-16)}, presented …${server.hostKey.slice(-16)}); refusing to connect`,
    );
    expect(server.logins()).toBe(before);
  });
});

describe('SSH connect failures before the host key', () => {
  const job = generateJobKeyPair('host-key-pinning-test-job');
  const servers: net.Server[] = [];
  const serve = async (onSocket: (socket: net.Socket) => void): Promise<TransportTarget> => {
    const server = net.createServer(onSocket);
    servers.push(server);
    return { host: '127.0.0.1', port: await listen(server), username: 'root', privateKey: job.privateKey };
  };
  afterAll(() => servers.forEach((server) => server.close()));

  it('a server that closes during the handshake: a retryable connect error that says so', async () => {
    const target = await serve((socket) => socket.end('SSH-2.0-test\r\n'));
    const attempt = sshTransport.connect(target);
    await expect(attempt).rejects.toBeInstanceOf(SshConnectError);
    await expect(attempt).rejects.toThrow(`SSH connection to root@127.0.0.1:${target.port} failed: the server closed the connection during the handshake`);
  });

  it('a server that never answers: gives up after the given timeout', async () => {
    const target = await serve(() => {});
    const attempt = sshTransport.connect(target, { timeoutMs: 200 });
    await expect(attempt).rejects.toThrow(`SSH connection to root@127.0.0.1:${target.port} failed: timed out waiting for the SSH handshake`);
  });
});
