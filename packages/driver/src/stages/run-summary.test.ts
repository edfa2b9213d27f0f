import { describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import { readyJobState } from '../../test/job-state.js';
import { BuildFailure } from '../errors.js';
import { type JobState, readState, writeState } from '../job/state.js';
import { jobStatePath } from './context.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection, Transport } from '../ssh/transport.js';
import { afterRunStage } from './run-summary.js';
import { runStage } from './run.js';

/** A task whose script exits with `exitCode`, printing a line. */
function task(exitCode: number): Transport {
  return {
    connect: async () =>
      ({
        hostKey: 'AAAA',
        exec: async (_command, streams) => {
          streams.stdout.write('script output\n');
          return { cancelled: false, lost: false, exitCode };
        },
        onClose: () => {},
        close: () => {},
      }) as Connection,
  };
}

const STATE: JobState = {
  ...readyJobState,
  metrics: {
    runTaskSentAt: '2026-12-03T04:00:00.300Z',
    runTaskReturnedAt: '2026-12-03T04:00:00.700Z',
    taskCreatedAt: '2026-12-03T04:00:00.600Z',
    pullStartedAt: '2026-12-03T04:00:02.700Z',
    pullStoppedAt: '2026-12-03T04:00:06.100Z',
    taskStartedAt: '2026-12-03T04:00:06.900Z',
    readyAt: '2026-12-03T04:00:07.300Z',
    cpu: 1024,
    memoryMiB: 2048,
    ephemeralGiB: 20,
    capacity: 'FARGATE',
    architecture: 'X86_64',
  },
};
const NOW = Date.parse('2026-12-03T04:02:00.000Z');

describe('after a run stage', () => {
  it('the last stage ends the job log with the timeline and the cost so far; earlier stages print nothing', async () => {
    const { ctx, output } = testContext();
    writeState(jobStatePath(ctx), STATE);
    await afterRunStage(ctx, 'build_script', undefined, () => NOW);
    expect(output().stdout).toBe('');
    await afterRunStage(ctx, 'cleanup_file_variables', undefined, () => NOW);
    const lines = output().stdout.split('\n');
    expect(lines[0]).toBe('Fargate task timeline (seconds after prepare started):');
    expect(lines).toContain('      7.3  SSH ready: the job starts     readiness lag 0.4 s');
    // From the pull's start (2.7 s) to 120 s: 117.3 s, billed as 118 s.
    expect(lines.find((l) => l.startsWith('Fargate cost so far:'))).toMatch(/^Fargate cost so far: 118 s × 1 vCPU, 2 GB: 118 vCPU-s, 236 GB-s; on-demand x86 in us-east-1; ≈ \$0\.0016\d /);
  });

  it('records the script\'s result and the first failure for cleanup\'s metrics', async () => {
    const { ctx } = testContext();
    const path = jobStatePath(ctx);
    writeState(path, STATE);
    await afterRunStage(ctx, 'build_script', new BuildFailure(3));
    await afterRunStage(ctx, 'after_script', new BuildFailure(9));
    expect(readState(path)?.metrics?.outcome).toEqual({ kind: 'script_failure', stage: 'build_script', exitCode: 3 });
  });

  it('never fails the stage: no state, nothing printed', async () => {
    const { ctx, output } = testContext();
    await afterRunStage(ctx, 'cleanup_file_variables', undefined);
    expect(output().stdout).toBe('');
  });

  it('is what runStage does after each stage: the summary follows the last stage\'s output, a script failure is recorded', async () => {
    const { ctx, cwd, output } = testContext();
    const path = jobStatePath(ctx);
    writeState(path, STATE);
    const script = join(cwd, 'script.sh');
    writeFileSync(script, 'true\n');
    await expect(runStage(ctx, script, 'build_script', { transport: task(3) })).rejects.toBeInstanceOf(BuildFailure);
    expect(readState(path)?.metrics?.outcome).toEqual({ kind: 'script_failure', stage: 'build_script', exitCode: 3 });
    await runStage(ctx, script, 'cleanup_file_variables', { transport: task(0) });
    expect(output().stdout).toMatch(/^script output\nscript output\nFargate task timeline \(seconds after prepare started\):\n[\s\S]*\nFargate cost so far: /);
  });
});
