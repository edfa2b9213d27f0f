import type { FaultOptions, TaskStateChange } from '@gitlab-fargate/ecs-emulator';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job } from '../index.js';
import { ProtocolJob, type StageExit, type StageProcess } from './driver-stage.js';
import { ReliabilityMatrix } from './matrix.js';
import { describeResidue, isEmpty, noResidue, settleResidue, type Residue } from './residue.js';

// The driver killed at each point of a job's life, as gitlab-runner does on cancel or timeout (SIGTERM to the process
// group, SIGKILL after graceful_kill_timeout) and as a crash or OOM kill does (SIGKILL alone). gitlab-runner then
// still runs cleanup; `gitlab-fargate-driver gc` stops what cleanup cannot know about.
let stack: LocalStack;
let runner: RunnerSettings;
let onTaskStateChange: ((change: TaskStateChange) => void) | undefined;
const matrix = new ReliabilityMatrix('Kill points (the driver stage processes, killed as a process group)');

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
}, { emulator: { onTaskStateChange: (change) => onTaskStateChange?.(change) } });

afterEach(() => {
  onTaskStateChange = undefined;
});

afterAll(() => {
  console.log(`\n${matrix.render()}\n`);
});

type KillSignal = 'SIGTERM' | 'SIGKILL';

interface KillPoint {
  readonly name: string;
  readonly faults?: FaultOptions;
  /** Starts the job's stages and signals the one to kill at the chosen moment; returns that stage. */
  reach(job: ProtocolJob, signal: KillSignal): Promise<StageProcess>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const killPoints: readonly KillPoint[] = [
  {
    name: 'during RunTask',
    // The emulator reports PROVISIONING while it handles RunTask, before it answers: the task exists, and the driver
    // has not seen its ARN yet.
    async reach(job, signal) {
      const prepare = job.start('prepare');
      onTaskStateChange = (change) => {
        if (change.lastStatus !== 'PROVISIONING') return;
        onTaskStateChange = undefined;
        prepare.kill(signal);
      };
      return prepare;
    },
  },
  {
    name: 'while waiting for RUNNING',
    faults: { slowProvisioning: { extraMs: 5_000, count: 1 } },
    async reach(job, signal) {
      const prepare = job.start('prepare');
      await prepare.waitFor(/Task arn:\S+ created/);
      prepare.kill(signal);
      return prepare;
    },
  },
  {
    name: 'during the SSH probe',
    faults: { lateSshd: { delayMs: 5_000, count: 1 } },
    async reach(job, signal) {
      const prepare = job.start('prepare');
      await prepare.waitFor(/Task is RUNNING/);
      await sleep(500);
      prepare.kill(signal);
      return prepare;
    },
  },
  {
    name: 'mid-script',
    async reach(job, signal) {
      const prepared = await job.start('prepare').exited;
      if (prepared.code !== 0) throw new Error(`prepare failed before the kill point:\n${prepared.output}`);
      const run = await job.startRun(['echo script-started', 'sleep 60', 'echo never-printed']);
      await run.waitFor(/^script-started$/m);
      run.kill(signal);
      return run;
    },
  },
];

/** What each kill must lead to. */
function expectations(point: KillPoint, signal: KillSignal) {
  // Only a SIGKILL between RunTask's start and its answer leaves a task that no state file names: gc's job.
  const orphan = signal === 'SIGKILL' && point.name === 'during RunTask';
  return {
    exit: (exit: StageExit) =>
      signal === 'SIGTERM' ? exit.code === 2 : exit.signal === 'SIGKILL',
    afterCleanup: (residue: Residue) =>
      orphan
        ? residue.tasks.length === 1 &&
          residue.stateFiles.length === 0 &&
          residue.privateKeys.length === 0 &&
          residue.processes.length === 0
        : isEmpty(residue),
    gcStopped: orphan ? 1 : 0,
  };
}

const scenarios = killPoints.flatMap((point) => (['SIGTERM', 'SIGKILL'] as const).map((signal) => ({ point, signal, label: `${signal} ${point.name}` })));

describe('the reliability matrix: kill points', () => {
  it.each(scenarios)('$label', async ({ point, signal, label }) => {
    stack.emulator.setFaults(point.faults ?? {});
    const jobRun = await ProtocolJob.create(stack, runner);
    const expected = expectations(point, signal);
    try {
      const killed = await point.reach(jobRun, signal);
      const exit = await killed.exited;
      stack.emulator.setFaults({});

      // gitlab-runner runs cleanup whatever happened to the stage before.
      const cleanup = await jobRun.start('cleanup').exited;
      const afterCleanup = await settleResidue(stack, [jobRun.tmpDir], expected.afterCleanup, 15_000);
      const gc = await jobRun.gc(0).exited;
      const gcStopped = Number(/gc: (\d+) stopped/.exec(gc.output)?.[1] ?? Number.NaN);
      const atEnd = await settleResidue(stack, [jobRun.tmpDir]);

      matrix.add({
        scenario: label,
        outcome: exit.code !== null ? `stage exit ${exit.code}${exit.code === 2 ? ' (system failure)' : ''}` : `stage killed (${exit.signal})`,
        cleanup: cleanup.code === 0 ? 'ok' : `exit ${cleanup.code}`,
        leftAfterCleanup: describeResidue(afterCleanup),
        gc: Number.isNaN(gcStopped) ? `failed (exit ${gc.code})` : String(gcStopped),
        leftAtEnd: describeResidue(atEnd),
      });

      expect(expected.exit(exit), `${label}: ${JSON.stringify({ code: exit.code, signal: exit.signal })}\n${exit.output}`).toBe(true);
      if (signal === 'SIGTERM') expect(exit.output).toMatch(/cancel|SIGTERM/i);
      expect(cleanup.code, cleanup.output).toBe(0);
      expect(expected.afterCleanup(afterCleanup), `after cleanup: ${JSON.stringify(afterCleanup)}\n${exit.output}\n${cleanup.output}`).toBe(true);
      expect(gc.code, gc.output).toBe(0);
      expect(gcStopped, gc.output).toBe(expected.gcStopped);
      expect(atEnd).toEqual(noResidue);
    } finally {
      await jobRun.remove();
    }
  });

  it("the harness's job timeout mid-script: timed out, cleanup ran, nothing left", async () => {
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo script-started', 'sleep 120', 'echo never-printed'], timeoutSeconds: 12 }),
    });
    const cleanup = result.timings.at(-1);
    const afterCleanup = await settleResidue(stack, []);
    const gcJob = await ProtocolJob.create(stack, runner);
    const gc = await gcJob.gc(0).exited;
    await gcJob.remove();
    const atEnd = await settleResidue(stack, []);
    matrix.add({
      scenario: 'job timeout (harness: SIGTERM to run, then cleanup)',
      outcome: `${result.outcome}${result.reason ? `: ${result.reason}` : ''}`,
      cleanup: cleanup?.phase === 'cleanup' && cleanup.exitCode === 0 ? 'ok' : 'FAILED',
      leftAfterCleanup: describeResidue(afterCleanup),
      gc: /gc: (\d+) stopped/.exec(gc.output)?.[1] ?? `failed (exit ${gc.code})`,
      leftAtEnd: describeResidue(atEnd),
    });

    expect(result.outcome, log.text).toBe('timed_out');
    expect(log.text).toMatch(/^script-started$/m);
    expect(log.text).not.toMatch(/^never-printed$/m);
    expect(log.text).toMatch(/ERROR: Job failed: execution took longer than 0m12s seconds/);
    expect(result.timings.find((t) => t.phase === 'build_script')).toMatchObject({ exitCode: 2 });
    expect(cleanup).toMatchObject({ phase: 'cleanup', exitCode: 0 });
    expect(afterCleanup).toEqual(noResidue);
    expect(gc.output).toMatch(/gc: 0 stopped/);
    expect(atEnd).toEqual(noResidue);
  });
});
