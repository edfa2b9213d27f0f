import type { FaultOptions } from '@gitlab-fargate/ecs-emulator';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type JobOutcome, type JobResult, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { afterAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job, setDriverTimeouts } from '../index.js';
import { startApiLoad, type LoadReport } from './api-load.js';
import { ProtocolJob } from './driver-stage.js';
import { ReliabilityMatrix } from './matrix.js';
import { describeResidue, noResidue, settleResidue } from './residue.js';

// Every fault the ECS emulator injects, met by a whole job (runner harness → compiled driver → emulator → the real
// ci-coordinator image): the job's result, the job log's reason, cleanup, and nothing left afterwards.
let stack: LocalStack;
let runner: RunnerSettings;
const matrix = new ReliabilityMatrix('Faults (a whole job through the runner harness)');

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

afterAll(() => {
  console.log(`\n${matrix.render()}\n`);
});

const spotOnly = (fallback: boolean) =>
  `  CapacityProviderStrategy = [{ CapacityProvider = "FARGATE_SPOT", Weight = 1 }]\n  OnDemandFallback = ${fallback}\n`;

/** Something a case does while its job runs (and undoes after). */
/** Runs beside a job: `ready` settles before the job starts, `done` after it ended (its note goes in the matrix). */
type During = (log: CapturedLog) => { ready?: Promise<void>; done: () => Promise<string | undefined> };

interface FaultCase {
  readonly scenario: string;
  readonly faults?: FaultOptions;
  /** TOML added to `[Fargate]`. */
  readonly fargate?: string;
  readonly timeouts?: Record<string, number>;
  readonly script?: readonly string[];
  readonly prepareAttempts?: number;
  readonly during?: During;
  readonly expected: {
    readonly outcome: JobOutcome;
    readonly exitCode?: number;
    /** What the job log must say. */
    readonly log: readonly RegExp[];
    /** Prepare attempts the harness needed (gitlab-runner retries a prepare that failed with a system failure). */
    readonly prepareAttempts?: number;
  };
}

/** The Spot task of the job gets interrupted once the script has started (Fargate Spot's two-minute notice, shortened). */
const interruptSpotMidScript: During = (log) => {
  const interrupted = log.waitFor(/^script-started$/m).then(() => {
    const arn = /Task (arn:aws:ecs:\S+) created/.exec(log.text)?.[1];
    if (arn === undefined || !stack.emulator.interruptSpot(arn, 1_000)) throw new Error(`no running Spot task to interrupt in:\n${log.text}`);
  });
  return { done: async () => { await interrupted; return undefined; } };
};

/**
 * Another tenant drains the account's ECS read bucket (AWS's figures) for the whole job. The job starts only once the
 * bucket is dry: a job of gitlab-runner's 4-5 stages can end in about 2 s, before 80 calls/s had emptied it.
 */
const throttlingLoad: During = () => {
  const load = startApiLoad(stack, 80);
  const ready = Promise.race([
    load.dry,
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error('the background load met no throttling within 20 s: is the emulator throttling on?')), 20_000).unref();
    }),
  ]);
  return {
    ready,
    done: async () => {
      const report: LoadReport = await load.stop();
      expect(report.throttled, 'the background load met throttling').toBeGreaterThan(0);
      return `${report.throttled} of ${report.calls} background calls throttled`;
    },
  };
};

const cases: readonly FaultCase[] = [
  {
    scenario: "throttling at AWS's rates (another tenant drains the read bucket)",
    during: throttlingLoad,
    expected: { outcome: 'success', log: [] },
  },
  {
    scenario: 'no Spot capacity, on-demand fallback on',
    fargate: spotOnly(true),
    faults: { capacityUnavailable: { FARGATE_SPOT: {} } },
    expected: { outcome: 'success', log: [/No Spot capacity \(.*Capacity is unavailable at this time.*\); trying on-demand FARGATE instead/] },
  },
  {
    scenario: 'no Spot capacity, fallback off',
    fargate: spotOnly(false),
    timeouts: { TaskStart: 10 }, // the shortest the config allows: capacity is retried that long
    faults: { capacityUnavailable: { FARGATE_SPOT: {} } },
    prepareAttempts: 1,
    expected: { outcome: 'system_failure', log: [/RunTask did not start a task within 10 s/, /Capacity is unavailable at this time/] },
  },
  {
    scenario: 'no on-demand capacity once (RunTask retried)',
    faults: { capacityUnavailable: { FARGATE: { count: 1 } } },
    expected: { outcome: 'success', log: [/RunTask: .*Capacity is unavailable.*; retrying in/] },
  },
  {
    scenario: 'stopped before RUNNING (CannotPullContainerError), every attempt',
    faults: { startFailure: { error: 'CannotPullContainerError' } },
    prepareAttempts: 2,
    expected: { outcome: 'system_failure', prepareAttempts: 2, log: [/TaskFailedToStart/, /CannotPullContainerError: pull image manifest has been retried/] },
  },
  {
    scenario: 'stopped before RUNNING (CannotPullContainerError), once',
    faults: { startFailure: { error: 'CannotPullContainerError', count: 1 } },
    expected: { outcome: 'success', prepareAttempts: 2, log: [/Will be retried in/, /CannotPullContainerError: pull image manifest has been retried/] },
  },
  {
    scenario: 'MISSING at first (3 DescribeTasks)',
    faults: { missingDescribes: 3 },
    expected: { outcome: 'success', log: [/Job container ready after/] },
  },
  {
    scenario: 'late sshd (RUNNING 3 s before the port listens)',
    faults: { lateSshd: { delayMs: 3_000 } },
    expected: { outcome: 'success', log: [/Job container ready after \d+\.\d s \(SSH answered \d+\.\d s after RUNNING\)/] },
  },
  {
    scenario: 'Spot interruption mid-script',
    fargate: spotOnly(false),
    script: ['echo script-started', 'sleep 60', 'echo never-printed'],
    during: interruptSpotMidScript,
    prepareAttempts: 1,
    expected: { outcome: 'system_failure', log: [/script-started/, /SSH connection to \S+ ended before the script finished \(the task may have stopped: Spot interruption[^)]*\)/] },
  },
];

describe('the reliability matrix: faults', () => {
  it.each(cases)('$scenario', async (testCase) => {
    if (testCase.fargate !== undefined) await stack.rewriteDriverConfig({ fargateExtra: testCase.fargate });
    if (testCase.timeouts !== undefined) await setDriverTimeouts(stack, testCase.timeouts);
    stack.emulator.setFaults(testCase.faults ?? {});
    const log = new CapturedLog();
    const during = testCase.during?.(log);
    await during?.ready;
    const result: JobResult = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareRetryIntervalMs: 200,
      prepareAttempts: testCase.prepareAttempts ?? 3,
      job: job({ script: [...(testCase.script ?? ['echo "It works!"'])], timeoutSeconds: 90 }),
    });
    const note = await during?.done();
    stack.emulator.setFaults({});

    const cleanups = result.timings.filter((t) => t.phase === 'cleanup');
    const cleanupOk = cleanups.length > 0 && cleanups.every((t) => t.exitCode === 0);
    const afterCleanup = await settleResidue(stack, []);
    const gc = await ProtocolJob.create(stack, runner);
    const gcExit = await gc.gc().exited;
    await gc.remove();
    const atEnd = await settleResidue(stack, []);
    // What the job log says about the failure: the part the case's last log pattern matched.
    const said = testCase.expected.log.length === 0 ? undefined : testCase.expected.log.at(-1)!.exec(log.text)?.[0]
      .replace(/arn:aws:ecs:\S+\/([0-9a-f]{8})[0-9a-f]{24}/g, '$1…').replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'the task');
    const shortReason = said === undefined ? '' : `, log: "${said.length > 70 ? `${said.slice(0, 69)}…` : said}"`;
    const outcome = `${result.outcome}${result.exitCode !== undefined ? ` (exit ${result.exitCode})` : ''}${shortReason}`;
    matrix.add({
      scenario: testCase.scenario,
      outcome: `${outcome}${result.prepareAttempts > 1 ? `, ${result.prepareAttempts} prepares` : ''}${note ? `; ${note}` : ''}`,
      cleanup: cleanupOk ? `ok (${cleanups.length}×)` : 'FAILED',
      leftAfterCleanup: describeResidue(afterCleanup),
      gc: /gc: (\d+) stopped/.exec(gcExit.output)?.[1] ?? `failed: ${gcExit.output.trim()}`,
      leftAtEnd: describeResidue(atEnd),
    });

    if (process.env.RELIABILITY_DEBUG) console.log(log.text);
    expect(result.outcome, log.text).toBe(testCase.expected.outcome);
    if (testCase.expected.exitCode !== undefined) expect(result.exitCode).toBe(testCase.expected.exitCode);
    if (testCase.expected.prepareAttempts !== undefined) expect(result.prepareAttempts).toBe(testCase.expected.prepareAttempts);
    for (const pattern of testCase.expected.log) expect(log.text).toMatch(pattern);
    if (result.outcome !== 'success') expect(log.text).toMatch(/ERROR: Job failed/);
    expect(cleanupOk, log.text).toBe(true);
    expect(afterCleanup).toEqual(noResidue);
    expect(gcExit.code, gcExit.output).toBe(0);
    expect(gcExit.output).toMatch(/gc: 0 stopped/);
    expect(atEnd).toEqual(noResidue);
  });
});
