import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { multiplexedTransport } from './client.js';
import { type MuxServer, serveMultiplexed } from './server.js';
import type { Connection, ExecStreams } from '../transport.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const CHUNKS = 100;

/**
 * A connection whose command writes all its output at once and exits at once: the moment the multiplexer must not
 * answer with the result before that output went out. (The ordering is what is under test, so the remote side is a
 * stand-in; mux.int.test.ts runs the same server against a real sshd.)
 */
const burstConnection: Connection = {
  hostKey: 'AAAA',
  exec: async (_command: string, streams: ExecStreams) => {
    for (let i = 0; i < CHUNKS; i++) streams.stdout.write(CHUNK);
    streams.stderr.write('stderr-tail\n');
    return { exitCode: 0, cancelled: false, lost: false };
  },
  onClose: () => {},
  close: () => {},
};

describe('serveMultiplexed', () => {
  let dir: string;
  let server: MuxServer | undefined;
  afterEach(() => {
    server?.stop('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends every output byte before the result, even to a reader that lags far behind', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mux-server-'));
    const socket = join(dir, 'mux.sock');
    server = await serveMultiplexed(Promise.resolve(burstConnection), socket, { idleTimeoutMs: 60_000, onStop: () => {} });
    let stdoutBytes = 0;
    let stderrText = '';
    const slowStdout = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        stdoutBytes += chunk.length;
        setTimeout(callback, 1);
      },
    });
    const stderr = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        stderrText += chunk.toString();
        callback();
      },
    });
    const connection = await multiplexedTransport(socket).connect({ host: '127.0.0.1', port: 22, username: 'root', privateKey: '' });
    const result = await connection.exec('bash -s', { stdin: 'true\n', stdout: slowStdout, stderr });
    expect(result).toEqual({ exitCode: 0, cancelled: false, lost: false });
    await finished(slowStdout.end());
    expect(stdoutBytes).toBe(CHUNKS * CHUNK.length);
    expect(stderrText).toBe('stderr-tail\n');
  });
});
