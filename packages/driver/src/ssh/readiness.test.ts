import { describe, expect, it } from 'vitest';
import { deferred } from '../deferred.js';
import { SystemFailure } from '../errors.js';
import { SshConnectError } from './connect.js';
import { waitUntilReachable } from './readiness.js';
import type { Connection, Transport, TransportTarget } from './transport.js';

const target: TransportTarget = { host: '127.0.0.9', port: 22, username: 'root', privateKey: 'key' };
const noWait = async (): Promise<void> => {};

function transport(failures: Error[]): { transport: Transport; attempts: () => number } {
  let attempts = 0;
  const connection = { hostKey: 'AAAA', exec: () => Promise.reject(new Error('unused')), onClose: () => {}, close: () => {} } as Connection;
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

  it('does not let an attempt that hangs hold readiness back: a later attempt wins, the late one is closed', async () => {
    const first = deferred<Connection>();
    const closed: string[] = [];
    const connection = (hostKey: string): Connection =>
      ({ hostKey, exec: () => Promise.reject(new Error('unused')), onClose: () => {}, close: () => closed.push(hostKey) }) as Connection;
    let attempts = 0;
    const hedged: Transport = {
      connect: () => {
        attempts += 1;
        // The first attempt connected while the container was starting and waits for a banner; the second is fresh.
        if (attempts === 1) return first.promise;
        return Promise.resolve(connection('fresh'));
      },
    };
    const winner = await waitUntilReachable(hedged, target, { sleep: noWait, minDelayMs: 100, maxDelayMs: 100 });
    expect(winner.hostKey).toBe('fresh');
    expect(attempts).toBe(2);
    first.resolve(connection('stale'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toEqual(['stale']);
  });

  it('gives up at the deadline with the last connection error', async () => {
    let clock = 0;
    const refused = new SshConnectError(target, 'connection refused');
    const always: Transport = { connect: () => Promise.reject(refused) };
    const tick = async () => {
      clock += 100;
    };
    await expect(
      waitUntilReachable(always, target, { sleep: tick, now: () => clock, deadlineMs: 1_000, minDelayMs: 100, maxDelayMs: 100 }),
    ).rejects.toThrow(/did not accept SSH within 1 s \(\d+ attempts\); last error: .*connection refused/);
  });
});
