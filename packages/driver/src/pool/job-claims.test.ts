import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, memorySink } from '../log.js';
import { ensurePoolDirectory, moveEntry, writeEntry } from './directory.js';
import type { PoolEntry } from './entry.js';
import { claimsOfJob, releaseJobClaims } from './job-claims.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/ci/${id}`;
let root: string;

beforeEach(() => {
  ecsMock.reset();
  root = mkdtempSync(join(tmpdir(), 'gf-job-claims-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An entry of `pool` claimed by `jobKey`, as a claim leaves it. */
function claimed(pool: string, id: string, jobKey: string): string {
  ensurePoolDirectory(root, pool);
  const entry: PoolEntry = {
    version: 1, pool, poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: id, taskArn: arn(id),
    port: 22, username: 'root', privateKey: 'K', publicKey: 'P', launchedAt: new Date().toISOString(), idleDeadline: 2_000_000_000,
  };
  const path = writeEntry(root, entry, 'ready');
  return moveEntry({ entry, state: 'ready', path }, 'claimed', jobKey)!;
}

const release = (ownTaskArn?: string, log = createLogger({ sink: memorySink(), progress: memorySink() })) =>
  releaseJobClaims({ ecs, root, jobKey: 'job-a', reason: 'done', stop: { deadlineMs: 1_000, sleep: async () => {} }, log, ...(ownTaskArn ? { ownTaskArn } : {}) });

describe("a job's pool claims", () => {
  it("are found by the job's key in every pool folder, and only the job's", () => {
    const mine = [claimed('warm', 't1', 'job-a'), claimed('other', 't2', 'job-a')];
    claimed('warm', 't3', 'job-b');
    expect(claimsOfJob(root, 'job-a').map((c) => c.path).sort()).toEqual(mine.sort());
    expect(claimsOfJob(join(root, 'missing'), 'job-a')).toEqual([]);
  });

  it('are removed; their tasks stopped, except the one the caller stops itself', async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    claimed('warm', 't1', 'job-a');
    claimed('warm', 't2', 'job-a');
    claimed('warm', 't3', 'job-b');
    expect(await release(arn('t1'))).toEqual([arn('t2')]);
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: arn('t2') });
    expect(readdirSync(join(root, 'warm', 'claimed'))).toEqual([`t3.job-b.json`]);
  });

  it('are removed even when StopTask fails (a warning) or the file is damaged', async () => {
    ecsMock.on(StopTaskCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const path = claimed('warm', 't1', 'job-a');
    const damaged = join(root, 'warm', 'claimed', 't9.job-a.json');
    writeFileSync(damaged, '{', { mode: 0o600 });
    const logs = memorySink();
    expect(await release(undefined, createLogger({ sink: logs, progress: memorySink() }))).toEqual([]);
    expect([existsSync(path), existsSync(damaged)]).toEqual([false, false]);
    expect(logs.lines.join('')).toMatch(/could not stop pool task .*t1 claimed by this job/);
  });
});
