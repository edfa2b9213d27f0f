import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { emfViolations } from '../../test/emf-spec.js';
import { testContext } from '../../test/context.js';
import { readyJobState } from '../../test/job-state.js';
import type { JobState } from '../job/state.js';
import { ensurePoolDirectory, readEntry, writeEntry } from '../pool/directory.js';
import type { PoolEntry } from '../pool/entry.js';
import { emitJobMetrics } from '../stages/cleanup-metrics.js';
import { TaskObserver } from './observe.js';
import { jobSummary } from './summary.js';
import { warmJobRecord } from './warm-record.js';

const ARN = readyJobState.taskArn;
/** The keeper's RunTask (t = 0), the task ready at 30 s; the job's prepare at 600 s, its claim 0.1 s later. */
const T0 = Date.parse('2026-12-03T04:00:00.000Z');
const PREPARE = T0 + 600_000;
const CLAIM = PREPARE + 100;
const OWNED = CLAIM + 95;
const NO_OVERRIDE = { discountPercent: 0 };

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** What the keeper's fill sees of its task: RunTask's answer and the polls (a Spot ARM task, 2 vCPU, 4 GB, 30 GiB). */
function keeperObservation(): PoolEntry['observed'] {
  let clock = T0;
  const observer = new TaskObserver(() => clock);
  observer.runTaskSent();
  const task: Task = {
    taskArn: ARN, cpu: '2048', memory: '4096', createdAt: new Date(T0 + 500), capacityProviderName: 'FARGATE_SPOT',
    ephemeralStorage: { sizeInGiB: 30 }, attributes: [{ name: 'ecs.cpu-architecture', value: 'arm64' }], lastStatus: 'PROVISIONING',
  };
  clock = T0 + 700;
  observer.runTaskReturned(task);
  clock = T0 + 20_000;
  observer.see({ ...task, lastStatus: 'RUNNING', pullStartedAt: new Date(T0 + 3_000), pullStoppedAt: new Date(T0 + 15_000), startedAt: new Date(T0 + 18_000) });
  clock = T0 + 30_000;
  observer.ready();
  return observer.snapshot();
}

/** A ready entry as fill.ts writes it, read back the way a claimer reads it. */
function roundTrip(observed: PoolEntry['observed']): PoolEntry {
  dir = mkdtempSync(join(tmpdir(), 'gf-warm-record-'));
  ensurePoolDirectory(dir, 'warm');
  const entry: PoolEntry = {
    version: 1, pool: 'warm', poolKey: '0123456789abcdef', configHash: 'fedcba9876543210', cluster: 'ci', fillId: 'f1', taskArn: ARN,
    address: '10.0.0.1', port: 22, username: 'root', privateKey: 'K', publicKey: 'P', hostKey: 'AAAA',
    launchedAt: new Date(T0).toISOString(), idleDeadline: Math.floor(T0 / 1000) + 3600, readyAt: new Date(T0 + 30_000).toISOString(),
    ...(observed === undefined ? {} : { observed }),
  };
  return readEntry(writeEntry(dir, entry, 'ready'));
}

/** The warm job's state as prepare-warm writes it from the claimed entry. */
function warmState(entry: PoolEntry): JobState {
  const metrics = warmJobRecord({ observed: entry.observed, poolReadyAt: entry.readyAt, claimedAt: CLAIM, readyAt: OWNED });
  return { ...readyJobState, createdAt: new Date(PREPARE).toISOString(), pool: { name: 'warm', claimMs: 1 }, metrics };
}

describe('a warm job\'s cost comes from its pool entry', () => {
  it('keeps the size the keeper observed through the entry file, and the job pays from its claim', () => {
    const entry = roundTrip(keeperObservation());
    expect(entry.observed).toMatchObject({ cpu: 2048, memoryMiB: 4096, ephemeralGiB: 30, capacity: 'FARGATE_SPOT', architecture: 'ARM64' });
    const lines = jobSummary(warmState(entry), CLAIM + 300_000, NO_OVERRIDE);
    expect(lines).toEqual([
      'Fargate task timeline (seconds after prepare started):',
      '      0.0  prepare started',
      '      0.1  idle pool task claimed',
      '      0.2  SSH ready: the job starts',
      '    300.1  now (this stage)              script and stages 299.9 s so far',
      '  start latency 0.2 s (prepare started → SSH ready)',
      // The pool task was ready at 30 s and claimed at 600.1 s: 570.1 s idle, the pool's.
      "  warm start: an idle task of pool warm, claimed in 1 ms, after 570.1 s idle (the pool's cost; this job's counts from the claim)",
      expect.stringMatching(/^Fargate cost so far: 300 s × 2 vCPU, 4 GB: 600 vCPU-s, 1200 GB-s, 3000 GB-s of storage beyond 20 GiB \(30 GiB\); Fargate Spot ARM in us-east-1; ≈ \$0\.\d+ \(estimate; /),
    ]);
  });

  it('gives cleanup\'s metrics document the cost and the size\'s usage, marked warm', () => {
    const { ctx, logs } = testContext();
    emitJobMetrics(ctx, warmState(roundTrip(keeperObservation())), CLAIM + 300_000);
    const [line] = logs.lines.filter((l) => l.startsWith('{'));
    expect(emfViolations(line!.trimEnd())).toEqual([]);
    const doc = JSON.parse(line!) as Record<string, unknown>;
    expect(doc).toMatchObject({ start: 'warm', VcpuSeconds: 600, GbSeconds: 1200, billedSeconds: 300, capacity: 'FARGATE_SPOT', architecture: 'ARM64', StartLatency: 0.195 });
    expect(doc.Cost).toBeGreaterThan(0);
    // The pool task's own start (image pull, container start) is not this job's.
    expect(doc).not.toHaveProperty('ImagePullTime');
    expect(doc).not.toHaveProperty('ReadinessLag');
  });

  it('still serves a job from an entry an older keeper wrote (no observed size): the cost is unknown, nothing fails', () => {
    const state = warmState(roundTrip(undefined));
    expect(jobSummary(state, CLAIM + 1000, NO_OVERRIDE).at(-1)).toBe("Fargate cost so far: unknown (the task's size was not recorded)");
    const { ctx, logs } = testContext();
    emitJobMetrics(ctx, state, CLAIM + 1000);
    const doc = JSON.parse(logs.lines.find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    expect(doc).toMatchObject({ start: 'warm' });
    expect(doc).not.toHaveProperty('VcpuSeconds');
  });

  it('drops a malformed observed record rather than trusting it', () => {
    const record = warmJobRecord({ observed: { cpu: 'lots', memoryMiB: -1, capacity: 'EC2' }, poolReadyAt: 'yesterday', claimedAt: CLAIM, readyAt: OWNED });
    expect(record).toEqual({ claimedAt: new Date(CLAIM).toISOString(), readyAt: new Date(OWNED).toISOString() });
  });
});
