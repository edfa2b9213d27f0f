import { describe, expect, it } from 'vitest';
import { SystemFailure } from '../errors.js';
import { SshConnectError, waitUntilReachable } from './connect.js';
import type { Connection, Transport, TransportTarget } from './transport.js';

const target: TransportTarget = { host: '127.0.0.9', port: 22, username: 'root', privateKey: 'key' };
const noWait = async (): Promise<void> => {};

function transport(failures: Error[]): { transport: Transport; attempts: () => number } {
  let attempts = 0;
  const connection = { hostKey: 'AAAA', exec: () => Promise.reject(new Error('unused')), close: () => {} } as Connection;
  return {
    attempts: () => attempts,
    transport: {
      connect: async () => {
        const failure = failures[attempts++];
        if (failure !== undefined) throw failure;
        return connection;
      },
    },
  };
}

describe('waitUntilReachable', () => {
  it('retries connection errors (sshd not listening yet) until the handshake succeeds', async () => {
    const refused = new SshConnectError(target, 'connection refused');
    const fake = transport([refused, refused, refused]);
    const connection = await waitUntilReachable(fake.transport, target, { sleep: noWait, minDelayMs: 100, maxDelayMs: 100 });
    expect(connection.hostKey).toBe('AAAA');
    expect(fake.attempts()).toBe(4);
  });

  it('gives up at once on a permanent failure (an unusable job key) instead of probing until the deadline', async () => {
    const fake = transport([new SystemFailure("the job's SSH key is unusable (Malformed OpenSSH private key)")]);
    await expect(waitUntilReachable(fake.transport, target, { sleep: noWait })).rejects.toThrow(/key is unusable/);
    expect(fake.attempts()).toBe(1);
  });
});
