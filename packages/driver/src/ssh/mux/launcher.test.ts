import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI, ensureBuilt } from '../../../test/cli-process.js';
import { statePath, writeState } from '../../job/state.js';
import { SystemFailure } from '../../errors.js';
import { generateJobKeyPair } from '../keys.js';
import { launchMultiplexer, stopMultiplexer } from './launcher.js';
import type { MuxRecord } from './record.js';
import { muxSocketPath } from './socket.js';

/** What a job's stage has in its environment and must not hand to a process that outlives it. */
const SECRETS = {
  CUSTOM_ENV_CI_JOB_TOKEN: 'glcbt-64_job-token-secret',
  CUSTOM_ENV_DEPLOY_PASSWORD: 'hunter2-secret',
  CI_JOB_TOKEN: 'glcbt-64_bare-job-token-secret',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-access-key-secret',
};

describe('the SSH multiplexer process (compiled CLI)', () => {
  let dir: string;
  let silent: Server;
  let mux: MuxRecord | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'driver-mux-env-'));
    // Accepts and never answers: the multiplexer sits in its SSH handshake, alive, while we look at it.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    if (mux !== undefined) stopMultiplexer(mux);
    vi.unstubAllEnvs();
    silent?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gets none of the job secrets in the environment of the stage that starts it', async () => {
    for (const [name, value] of Object.entries(SECRETS)) vi.stubEnv(name, value);
    const keys = generateJobKeyPair('mux-env-test');
    const path = statePath(join(dir, 'state'), 'muxenv', '31');
    writeState(path, {
      version: 1, jobId: '31', runnerShortToken: 'muxenv', cluster: 'ci', address: '127.0.0.1',
      port: (silent.address() as AddressInfo).port, username: 'root', privateKey: keys.privateKey, publicKey: keys.publicKey,
      hostKey: 'AAAAC3NzaC1lZDI1NTE5AAAAIPinnedHostKeyForTheTestOnly0000000000000', createdAt: new Date().toISOString(),
    });
    mux = await launchMultiplexer(CLI, {
      statePath: path, socketPath: muxSocketPath(path), connectTimeoutMs: 60_000,
      keepaliveIntervalMs: 15_000, keepaliveCountMax: 4, idleTimeoutMs: 60_000,
    }).connect(15_000);

    // The pid reported itself from inside the running driver: /proc shows the environment it was started with.
    const environment = readFileSync(`/proc/${mux.pid}/environ`, 'utf8').split('\0').filter((entry) => entry !== '');
    expect(environment.map((entry) => entry.slice(0, entry.indexOf('=')))).toEqual(['PATH']);
    for (const value of Object.values(SECRETS)) expect(environment.join('\n')).not.toContain(value);
  });

  it('fails with the process\'s own reason when its socket cannot listen', async () => {
    const socketPath = join(dir, 'no-such-folder', 'mux.sock');
    const pending = launchMultiplexer(CLI, {
      statePath: join(dir, 'state', 'none.json'), socketPath, connectTimeoutMs: 1_000,
      keepaliveIntervalMs: 15_000, keepaliveCountMax: 4, idleTimeoutMs: 60_000,
    });
    const failure = await pending.connect(15_000).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SystemFailure);
    // Without the process's 'error: ' prefix: the reason reads as prepare's own.
    expect((failure as Error).message.startsWith(`cannot listen on ${socketPath}: listen `)).toBe(true);
  });
});
