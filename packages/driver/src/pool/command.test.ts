import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { poolCommand } from './command.js';
import { ensurePoolDirectory, writeEntry } from './directory.js';
import type { PoolEntry } from './entry.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await poolCommand(argv, { env: {}, cwd: dir, stdout, stderr, stderrFd: 2, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

function setUp(pools: string): void {
  dir = mkdtempSync(join(tmpdir(), 'gf-pool-cmd-'));
  writeFileSync(
    join(dir, 'config.toml'),
    `[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n[TaskMetadata]\nDirectory = "${dir}/state"\n${pools}`,
  );
}

const entry: PoolEntry = {
  version: 1, pool: 'default', poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: 'f1',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/abc', port: 22, username: 'root', privateKey: 'K', publicKey: 'P',
  launchedAt: '2026-12-03T06:00:00.000Z', idleDeadline: 1_796_277_600,
};

describe('pool status', () => {
  it('prints each pool\'s counts as JSON from the directory, with no AWS call', async () => {
    setUp('[[Pool]]\nName = "default"\n[[Pool]]\nName = "nights"\n');
    ensurePoolDirectory(join(dir, 'state', 'pool'), 'default');
    writeEntry(join(dir, 'state', 'pool'), entry, 'ready');
    writeEntry(join(dir, 'state', 'pool'), { ...entry, fillId: 'f2', taskArn: undefined }, 'pending');
    const { code, stdout } = await run(['status', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      pools: [
        { name: 'default', ready: 1, pending: 1, claimed: 0, draining: 0, nextDeadline: new Date(entry.idleDeadline * 1000).toISOString() },
        { name: 'nights', ready: 0, pending: 0, claimed: 0, draining: 0 },
      ],
    });
    expect((await run(['status'])).stdout).toBe(`default: 1 ready, 1 pending, 0 claimed, 0 draining (next idle deadline ${new Date(entry.idleDeadline * 1000).toISOString()})\nnights: 0 ready, 0 pending, 0 claimed, 0 draining\n`);
  });

  it('has --help, and refuses bad arguments and a keeper without a pool before any AWS call', async () => {
    setUp('');
    expect(await run(['keep', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: gitlab-fargate-driver pool keep [--once]') });
    expect(await run(['fill'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/expected "pool keep" or "pool status", found "fill"/) });
    expect(await run(['status', '--once'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/pool status: unknown argument "--once"/) });
    expect(await run(['keep', '--once'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no \[\[Pool\]\] is configured: nothing to keep/) });
    expect(await run(['status'])).toMatchObject({ code: 0, stdout: 'no [[Pool]] is configured\n' });
  });
});
