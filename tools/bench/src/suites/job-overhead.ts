import { DEFAULT_PHASES } from '@gitlab-fargate/ecs-emulator';
import { loadRunnerSettings, runJob, type JobResult, type JobSpec, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { fmt } from '../report/format.js';
import type { SuiteResult, Table, TargetCheck } from '../report/types.js';
import { median, sum } from '../measure/stats.js';
import { runTimed } from '../measure/timed-process.js';
import { buildNativeRunClient, withNativeCleanup, withNativeRunClient } from '../stack/native-run-client.js';
import type { SuiteContext } from './context.js';

/** What the job log showed, with the time each marker arrived. */
class TimedLog {
  text = '';
  /** Epoch ms at which the harness announced the config result, just before spawning `prepare_exec`. */
  prepareSpawnedAt = Number.NaN;
  /** Epoch ms of prepare's first progress line (its modules loaded, its config read). */
  prepareFirstLineAt = Number.NaN;
  /** Epoch ms at which the harness announced the first run stage (just before spawning `run_exec`). */
  firstStageAnnouncedAt = Number.NaN;
  /** Epoch ms of the first byte the first stage's script printed. */
  firstScriptByteAt = Number.NaN;

  write(chunk: string): void {
    const now = Date.now();
    if (Number.isNaN(this.prepareSpawnedAt) && chunk.includes('Using Custom executor')) this.prepareSpawnedAt = now;
    if (Number.isNaN(this.prepareFirstLineAt) && chunk.includes('Starting a Fargate task')) this.prepareFirstLineAt = now;
    if (Number.isNaN(this.firstStageAnnouncedAt) && chunk.includes('Preparing environment')) this.firstStageAnnouncedAt = now;
    // The harness's prepare_script prints this line first: nothing else in the job log says "Running on".
    if (Number.isNaN(this.firstScriptByteAt) && chunk.includes('Running on ')) this.firstScriptByteAt = now;
    if (this.text.length < 200_000) this.text += chunk;
  }
}

interface JobMeasurement {
  readonly result: JobResult;
  readonly phases: Record<string, number>;
  readonly runStages: number;
  readonly runSeconds: number;
  readonly driverSeconds: number;
  /** RunTask reaching the emulator → task RUNNING: the container's own start (Docker create, start, sshd up). */
  readonly containerStartSeconds: number;
  /** RUNNING → first script byte. */
  readonly readinessLagMs: number;
  /** RUNNING → the harness starting the first run stage (prepare noticing readiness, and exiting). */
  readonly prepareNoticeMs: number;
  /** The first run stage's start → its first byte (process start, a channel through the multiplexer, bash). */
  readonly firstStageStartMs: number;
  /** prepare spawned → its first progress line. */
  readonly prepareStartMs: number;
  /** prepare's first line → RunTask handled by the emulator (task PROVISIONING). */
  readonly runTaskMs: number;
}

/**
 * The main measured job: an after_script, a cache, artifacts and a dependency, so gitlab-runner (and the harness,
 * which calls only the stages a job needs) calls all nine run stages.
 */
const overheadJob: JobSpec = {
  name: 'overhead',
  script: ['echo "hello from the job"'],
  afterScript: ['echo "after: $CI_JOB_STATUS"'],
  variables: {},
  timeoutSeconds: 300,
  cache: { paths: ['vendor/'], when: 'on_success' },
  artifacts: { paths: ['report.txt'], when: 'on_success' },
  dependencies: ['build'],
};

/** A plain job (a script and an after_script), as gitlab-runner calls it: 5 run stages. */
const plainJob: JobSpec = { name: 'overhead-plain', script: overheadJob.script, afterScript: overheadJob.afterScript, variables: {}, timeoutSeconds: 300 };

/**
 * Whole jobs through the runner harness with the emulator's phases at zero, so the only waiting left is the
 * container's own start, which is subtracted: what remains is the driver's overhead per job. Two call patterns,
 * alternating: {@link plainJob} (config, prepare, 5 run stages, cleanup) and {@link overheadJob} (9 run stages),
 * which the detailed tables measure. The same jobs give the readiness lag, from the task's
 * RUNNING (the emulator's timestamp) to the first byte of the first stage's script.
 */
export async function jobOverheadSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const measured = await measureJobs(ctx);
  const summary = summarize(measured);
  return {
    id: 'job-overhead',
    title: '2-3. Job overhead and readiness lag',
    tables: [patternTable(measured), overheadTable(measured, summary), timelineTable(summary), lagTable(measured, summary)],
    targets: overheadTargets(measured, summary),
    figures: overheadFigures(measured, summary),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The jobs of both call patterns, alternating, and bare Node start-ups between them. */
interface Measured {
  /** The job with a cache, artifacts and a dependency: what the detailed tables measure. */
  readonly jobs: readonly JobMeasurement[];
  /** The plain job: a script and an after_script. */
  readonly plainJobs: readonly JobMeasurement[];
  /** The first job again with `run_exec` and `cleanup_exec` the Node driver (where the native client is not built). */
  readonly nodeRunJobs: readonly JobMeasurement[];
  /** How run stages and cleanup ran in {@link jobs}: the native client, or the Node driver (and why). */
  readonly runClient: string;
  /** `node -e 0` between the jobs: the machine's speed at the time, to read the seconds against. */
  readonly nodeMs: readonly number[];
}

async function measureJobs(ctx: SuiteContext): Promise<Measured> {
  const { bench, settings } = ctx;
  const nodeRunner = await loadRunnerSettings(bench.stack.runnerConfigPath);
  // run_exec and cleanup_exec: the native client where it is built (--run-exec, --cleanup-exec), the Node driver otherwise.
  const native = buildNativeRunClient();
  const runner = 'path' in native ? withNativeCleanup(withNativeRunClient(nodeRunner, native.path), native.path) : nodeRunner;
  const runClient = 'path' in native ? 'the native run client' : `the Node driver (no native client: ${native.reason.split('\n')[0]})`;
  bench.stack.emulator.setPhases({ provisioningMs: 0, pendingMs: 0, activatingMs: 0, deactivatingMs: 0, deprovisioningMs: 0 });
  const jobs: JobMeasurement[] = [];
  const plainJobs: JobMeasurement[] = [];
  const nodeRunJobs: JobMeasurement[] = [];
  const nodeMs: number[] = [];
  try {
    for (let i = 0; i < settings.overheadJobs; i += 1) {
      ctx.progress(`job-overhead: job ${i + 1}/${settings.overheadJobs}`);
      for (let k = 0; k < 3; k += 1) nodeMs.push((await runTimed(process.execPath, ['-e', '0'])).ms);
      jobs.push(await measureJob(bench, runner, overheadJob));
      plainJobs.push(await measureJob(bench, runner, plainJob));
      nodeRunJobs.push(await measureJob(bench, nodeRunner, overheadJob));
    }
  } finally {
    bench.stack.emulator.setPhases(DEFAULT_PHASES);
  }
  return { jobs, plainJobs, nodeRunJobs, runClient, nodeMs };
}

const overhead = (j: JobMeasurement): number => j.driverSeconds - j.containerStartSeconds;

/** Medians over the detailed job, and the numbers several tables and the targets share. */
interface Summary {
  readonly m: (pick: (j: JobMeasurement) => number) => number;
  readonly calls: number;
  readonly runStages: number;
  readonly nodeMs: number;
  readonly overheadS: number;
  readonly lagMs: number;
  readonly perStageMs: number;
}

function summarize({ jobs, nodeMs }: Measured): Summary {
  const m = (pick: (j: JobMeasurement) => number) => median(jobs.map(pick));
  const runStages = jobs[0]?.runStages ?? 0;
  return {
    m,
    calls: 3 + runStages,
    runStages,
    nodeMs: median(nodeMs),
    overheadS: m(overhead),
    lagMs: m((j) => j.readinessLagMs),
    perStageMs: m((j) => j.runSeconds / j.runStages) * 1000,
  };
}

function overheadTable({ jobs }: Measured, { m, calls, runStages, nodeMs }: Summary): Table {
  return {
    title: `Job overhead (${jobs.length} job(s) of ${calls} driver calls, emulator phases 0 ms; medians, seconds)`,
    columns: ['part', 'seconds'],
    rows: [
      ['config', fmt(m((j) => j.phases.config ?? NaN), 3)],
      ['prepare (whole call)', fmt(m((j) => j.phases.prepare ?? NaN), 3)],
      ['  of which the container\'s own start (RunTask → RUNNING)', fmt(m((j) => j.containerStartSeconds), 3)],
      ['  prepare overhead (call − container start)', fmt(m((j) => (j.phases.prepare ?? NaN) - j.containerStartSeconds), 3)],
      [`run stages (${runStages}, together)`, fmt(m((j) => j.runSeconds), 3)],
      ['  per run stage', fmt(m((j) => j.runSeconds / j.runStages), 3)],
      ['cleanup', fmt(m((j) => j.phases.cleanup ?? NaN), 3)],
      ['all driver calls', fmt(m((j) => j.driverSeconds), 3)],
      ['driver overhead per job (all calls − container start)', fmt(m(overhead), 3)],
      [`  in bare Node start-ups (node -e 0 = ${fmt(nodeMs)} ms, between the jobs)`, `${fmt(m(overhead) * 1000 / nodeMs, 1)}×`],
      ['whole job as the harness saw it', fmt(m((j) => j.result.seconds), 3)],
    ],
    notes: [
      'The stage scripts only echo, so their own run time (a bash start in the container per stage) is inside the run figures.',
      'Driver TOML of the local stack: TaskPollInterval 0.5 s, SSHPollInterval 0.1 s (the driver\'s defaults are 2 s and 1 s).',
    ],
  };
}

function patternTable({ jobs, plainJobs, nodeRunJobs, runClient }: Measured): Table {
  const patternRow = (label: string, measured: readonly JobMeasurement[]): string[] => {
    const mm = (pick: (j: JobMeasurement) => number) => median(measured.map(pick));
    const stages = measured[0]?.runStages ?? 0;
    const seconds = [mm((j) => j.runSeconds), mm((j) => j.driverSeconds), mm(overhead)].map((value) => fmt(value, 3));
    return [label, String(stages), String(3 + stages), ...seconds];
  };
  return {
    title: `Job overhead by call pattern (${jobs.length} job(s) of each, alternating; medians, seconds)`,
    columns: ['job', 'run stages', 'driver calls', 'run stages together', 'all driver calls', 'overhead (calls − container start)'],
    rows: [
      patternRow('plain: a script and an after_script', plainJobs),
      patternRow('with a cache, artifacts and a dependency', jobs),
      patternRow('the same, run stages and cleanup in Node (run_exec, cleanup_exec = the driver, the fallback)', nodeRunJobs),
    ],
    notes: [
      `Run stages and cleanup: ${runClient}; the last row runs them with the Node driver, as where the native client is not installed.`,
      'gitlab-runner 19 calls a stage only when its script would do something: restore_cache and archive_cache need a cache,',
      'download_artifacts a dependency, upload_artifacts artifacts (for that result). The other tables measure the second job.',
    ],
  };
}

function lagTable({ jobs, nodeMs }: Measured, { m }: Summary): Table {
  const row = (label: string, pick: (j: JobMeasurement) => number): string[] => [label, fmt(m(pick)), fmt(Math.max(...jobs.map(pick)))];
  return {
    title: `Readiness lag (task RUNNING at the emulator → first script byte; ${jobs.length} job(s), ms)`,
    columns: ['part', 'median ms', 'max ms'],
    rows: [
      row('RUNNING → harness starts the first run stage (prepare sees readiness, exits)', (j) => j.prepareNoticeMs),
      row('first run stage: spawn → first script byte (Node, multiplexer channel, bash)', (j) => j.firstStageStartMs),
      row('readiness lag', (j) => j.readinessLagMs),
      ['node -e 0 (between the jobs, for scale)', fmt(median(nodeMs)), fmt(Math.max(...nodeMs))],
      ['GitLab\'s upstream driver (6 s DescribeTasks poll; average)', '3000', '6000'],
    ],
    notes: [
      'The bench\'s emulator reports RUNNING only once sshd answers on the task\'s port (on AWS, RUNNING means the containers started),',
      'so the lag is the driver\'s own: its SSH probe, process exit and the next stage\'s start.',
    ],
  };
}

function timelineTable({ m }: Summary): Table {
  return {
    title: 'Where prepare\'s time goes (medians, ms; job-log arrival times and the emulator\'s task timestamps)',
    columns: ['step', 'median ms'],
    rows: [
      ['prepare spawned → its first progress line (Node start, modules, config)', fmt(m((j) => j.prepareStartMs))],
      ['first line → RunTask handled by the emulator (SDK set-up, key pair, request)', fmt(m((j) => j.runTaskMs))],
      ['RunTask → RUNNING (the container\'s own start; phases 0)', fmt(m((j) => j.containerStartSeconds * 1000))],
      ['RUNNING → prepare exited and the first run stage starts', fmt(m((j) => j.prepareNoticeMs))],
    ],
  };
}

function overheadTargets({ plainJobs }: Measured, s: Summary): TargetCheck[] {
  const { m, calls, runStages, nodeMs, overheadS, lagMs, perStageMs } = s;
  return [
    {
      name: 'driver overhead per job', target: '< 1.5 s', measured: `${fmt(overheadS, 2)} s`, met: overheadS < 1.5,
      note: `measured on the job with a cache and artifacts (a plain job: ${fmt(median(plainJobs.map(overhead)), 2)} s); ${calls} driver ` +
        `processes: prepare's overhead is ${fmt(m((j) => (j.phases.prepare ?? NaN) - j.containerStartSeconds), 2)} s ` +
        `(${fmt(m((j) => j.prepareStartMs))} ms from spawn to its first line, ${fmt(m((j) => j.prepareNoticeMs))} ms from RUNNING to exit), ` +
        `each of the ${runStages} run stages ${fmt(perStageMs)} ms (the native client, or a Node start with the driver's ` +
        `modules and config, then one channel on the job's SSH connection and a remote bash; node -e 0 is ${fmt(nodeMs)} ms ` +
        'here); config and prepare are Node processes, cleanup runs in the job\'s multiplexer with the native client',
    },
    {
      name: 'readiness lag', target: '≤ 300 ms', measured: `${fmt(lagMs)} ms`, met: lagMs <= 300,
      note: `RUNNING → prepare exit ${fmt(m((j) => j.prepareNoticeMs))} ms (the SSH probe's next attempt and handshake, the ` +
        `state file, the exit), then the first run stage needs ${fmt(m((j) => j.firstStageStartMs))} ms (Node start, modules, a ` +
        'channel on the multiplexer\'s connection, bash)',
    },
  ];
}

function overheadFigures(measured: Measured, { m, calls, nodeMs, overheadS, lagMs }: Summary): Record<string, number> {
  const { jobs, plainJobs, nodeRunJobs } = measured;
  return {
    jobs: jobs.length,
    overheadNodeStartups: (overheadS * 1000) / nodeMs,
    nodeRunOverheadSeconds: median(nodeRunJobs.map(overhead)),
    nodeRunOverheadNodeStartups: (median(nodeRunJobs.map(overhead)) * 1000) / nodeMs,
    driverCalls: calls,
    plainDriverCalls: 3 + (plainJobs[0]?.runStages ?? 0),
    plainOverheadSeconds: median(plainJobs.map(overhead)),
    overheadSeconds: overheadS,
    containerStartSeconds: m((j) => j.containerStartSeconds),
    prepareSeconds: m((j) => j.phases.prepare ?? NaN),
    runStageSeconds: m((j) => j.runSeconds / j.runStages),
    cleanupSeconds: m((j) => j.phases.cleanup ?? NaN),
    readinessLagMs: lagMs,
    nodeMs,
    prepareNoticeMs: m((j) => j.prepareNoticeMs),
    firstStageStartMs: m((j) => j.firstStageStartMs),
    prepareStartMs: m((j) => j.prepareStartMs),
    runTaskMs: m((j) => j.runTaskMs),
  };
}

/** One job through the harness, timed from the job log and the emulator's task timeline. */
async function measureJob(bench: SuiteContext['bench'], runner: RunnerSettings, job: JobSpec): Promise<JobMeasurement> {
  const since = Date.now();
  const log = new TimedLog();
  const runnerLog = new TimedLog();
  const result = await runJob({
    runner, env: bench.env, log, runnerLog, prepareRetryIntervalMs: 500,
    job,
  });
  if (result.outcome !== 'success') {
    throw new Error(`job-overhead: the job ended ${result.outcome} (${result.reason ?? ''}):\n${log.text.slice(-4000)}\n${runnerLog.text.slice(-2000)}`);
  }
  const tasks = bench.timelines(since);
  const task = tasks[0];
  if (!task || tasks.length !== 1 || task.at.RUNNING === undefined || task.at.PROVISIONING === undefined) {
    throw new Error(`job-overhead: expected one task with a RUNNING time since the job started, found ${JSON.stringify(tasks)}`);
  }
  const phases: Record<string, number> = {};
  for (const t of result.timings) phases[t.phase] = (phases[t.phase] ?? 0) + t.seconds;
  const runTimings = result.timings.filter((t) => !['config', 'prepare', 'cleanup'].includes(t.phase));
  const driverSeconds = sum(result.timings.map((t) => t.seconds));
  return {
    result, phases,
    runStages: runTimings.length,
    runSeconds: sum(runTimings.map((t) => t.seconds)),
    driverSeconds,
    containerStartSeconds: (task.at.RUNNING - task.at.PROVISIONING) / 1000,
    readinessLagMs: log.firstScriptByteAt - task.at.RUNNING,
    prepareNoticeMs: log.firstStageAnnouncedAt - task.at.RUNNING,
    firstStageStartMs: log.firstScriptByteAt - log.firstStageAnnouncedAt,
    prepareStartMs: log.prepareFirstLineAt - log.prepareSpawnedAt,
    runTaskMs: task.at.PROVISIONING - log.prepareFirstLineAt,
  };
}
