import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { readyJobState } from '../../test/job-state.js';
import type { AwsClients } from '../aws/clients.js';
import { readState, stateStem, writeState } from '../job/state.js';
import { ensurePoolDirectory, moveEntry, writeEntry } from '../pool/directory.js';
import type { PoolEntry } from '../pool/entry.js';
import { cleanupStage } from './cleanup.js';
import { jobStatePath } from './context.js';

// Cleanup of a warm start: the job's claimed pool entry (it holds the task's private key) goes with the job.
const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const POOL = '[[Pool]]\nName = "warm"\n';

beforeEach(() => {
  ecsMock.reset();
  ecsMock.on(StopTaskCommand).resolves({});
});

/** A pool with `taskArn`'s entry claimed by job 42 of runner abc123xyz. */
function claimedEntry(root: string, taskArn: string): void {
  ensurePoolDirectory(root, 'warm');
  const entry: PoolEntry = {
    version: 1, pool: 'warm', poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: 'f', taskArn,
    port: 22, username: 'root', privateKey: 'K', publicKey: 'P', launchedAt: new Date().toISOString(), idleDeadline: 2_000_000_000,
  };
  moveEntry({ entry, state: 'ready', path: writeEntry(root, entry, 'ready') }, 'claimed', stateStem('abc123xyz', '42'));
}

describe('cleanup after a warm start', () => {
  it('stops the task once, removes the claimed entry and the state, and its metrics say start: warm', async () => {
    const { ctx, logs } = testContext({ extra: POOL });
    const root = ctx.config.poolDefaults.directory!;
    claimedEntry(root, readyJobState.taskArn);
    writeState(jobStatePath(ctx), { ...readyJobState, pool: { name: 'warm', claimMs: 2 } });
    await cleanupStage(ctx, { clients, sleep: async () => {} });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(readdirSync(join(root, 'warm', 'claimed'))).toEqual([]);
    expect(readState(jobStatePath(ctx))).toBeUndefined();
    const metrics = logs.lines.find((line) => line.startsWith('{'));
    expect(JSON.parse(metrics!)).toMatchObject({ msg: 'job metrics', start: 'warm' });
  });

  it('stops a claimed task the state does not name yet (prepare killed between its claim and its state file)', async () => {
    const { ctx, progress } = testContext({ extra: POOL });
    const root = ctx.config.poolDefaults.directory!;
    const claimedArn = 'arn:aws:ecs:us-east-1:123456789012:task/ci/claimedbutunrecorded';
    claimedEntry(root, claimedArn);
    const { taskArn: _t, address: _a, hostKey: _h, ...beforeAnyTask } = readyJobState;
    writeState(jobStatePath(ctx), beforeAnyTask);
    await cleanupStage(ctx, { clients, sleep: async () => {} });
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: claimedArn });
    expect(readdirSync(join(root, 'warm', 'claimed'))).toEqual([]);
    expect(progress.lines.join('')).toContain(`Stopped pool task ${claimedArn}, claimed by this job's prepare`);
  });
});
