import { DEFAULT_PHASES } from '@gitlab-fargate/ecs-emulator';
import { loadRunnerSettings, runJob, type JobSpec, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { fmt } from '../report/format.js';
import type { SuiteResult, Table, TargetCheck } from '../report/types.js';
import { max, median, sum } from '../measure/stats.js';
import { runTimed } from '../measure/timed-process.js';
import { DriverJob } from '../stack/driver-job.js';
import type { SuiteContext } from './context.js';

/**
 * The image of the `image:` job: the local Debian base every stack image is built from, so it is on the machine
 * without a build or a registry. The job agent (`[JobImages] AgentImage`) makes it reachable; its own sshd is unused.
 */
export const JOB_IMAGE = 'local/debian:bookworm';

/** A plain job, as gitlab-runner calls it: a script and an after_script (config, prepare, 5 run stages, cleanup). */
const plainJob: JobSpec = {
  name: 'image-plain',
  script: ['echo "hello from the job"'],
  afterScript: ['echo "after: $CI_JOB_STATUS"'],
  variables: {},
  timeoutSeconds: 300,
};

/** The same job with `image:`: a derived task definition (gf-init, the helper, `build`), its stages in the image. */
const imageJob: JobSpec = { ...plainJob, name: 'image-job', image: { name: JOB_IMAGE } };

/** One whole job, timed from the job log and the emulator's task timeline. */
interface ImageMeasurement {
  /** The prepare call, seconds. */
  readonly prepareSeconds: number;
  /** RunTask handled by the emulator (PROVISIONING) → task RUNNING: the containers' own start. */
  readonly containerStartSeconds: number;
  /** RunTask handled → the first byte of the first run stage's script, ms. */
  readonly runTaskToFirstByteMs: number;
  /** All driver calls − the containers' own start, seconds. */
  readonly overheadSeconds: number;
  /** How prepare found the task definition: `registered`, `cache`, `described`, or `-` for a plain job. */
  readonly definition: string;
}

/** The job log, with the time of the first script byte (the harness's prepare_script prints "Running on " first). */
class FirstByteLog {
  text = '';
  firstScriptByteAt = Number.NaN;

  write(chunk: string): void {
    if (Number.isNaN(this.firstScriptByteAt) && chunk.includes('Running on ')) this.firstScriptByteAt = Date.now();
    if (this.text.length < 100_000) this.text += chunk;
  }
}

async function measure(bench: SuiteContext['bench'], runner: RunnerSettings, job: JobSpec): Promise<ImageMeasurement> {
  const since = Date.now();
  const log = new FirstByteLog();
  const runnerLog = new FirstByteLog();
  const result = await runJob({ runner, env: bench.env, log, runnerLog, prepareRetryIntervalMs: 500, job });
  if (result.outcome !== 'success') {
    throw new Error(`job-image: the job ${job.name} ended ${result.outcome} (${result.reason ?? ''}):\n${log.text.slice(-4000)}\n${runnerLog.text.slice(-2000)}`);
  }
  const tasks = bench.timelines(since);
  const task = tasks[0];
  if (!task || tasks.length !== 1 || task.at.RUNNING === undefined || task.at.PROVISIONING === undefined) {
    throw new Error(`job-image: expected one task with a RUNNING time since the job started, found ${JSON.stringify(tasks)}`);
  }
  const containerStartSeconds = (task.at.RUNNING - task.at.PROVISIONING) / 1000;
  return {
    prepareSeconds: sum(result.timings.filter((t) => t.phase === 'prepare').map((t) => t.seconds)),
    containerStartSeconds,
    runTaskToFirstByteMs: log.firstScriptByteAt - task.at.PROVISIONING,
    overheadSeconds: sum(result.timings.map((t) => t.seconds)) - containerStartSeconds,
    definition: /task definition \S+ \((registered|cache|described)\)/.exec(log.text)?.[1] ?? '-',
  };
}

/** The jobs of the suite: one image job that registers its definition, then plain and image jobs alternating. */
interface Measured {
  readonly first: ImageMeasurement;
  readonly plain: readonly ImageMeasurement[];
  readonly image: readonly ImageMeasurement[];
}

async function measureJobs(ctx: SuiteContext): Promise<Measured> {
  const { bench, settings } = ctx;
  const runner = await loadRunnerSettings(bench.stack.runnerConfigPath);
  const zero = { provisioningMs: 0, pendingMs: 0, activatingMs: 0, deactivatingMs: 0, deprovisioningMs: 0, registrationMs: 0 };
  bench.stack.emulator.setPhases(zero);
  try {
    ctx.progress('job-image: the first image job (registers its task definition)');
    const first = await measure(bench, runner, imageJob);
    const plain: ImageMeasurement[] = [];
    const image: ImageMeasurement[] = [];
    for (let i = 0; i < settings.overheadJobs; i += 1) {
      ctx.progress(`job-image: plain and image job ${i + 1}/${settings.overheadJobs}`);
      plain.push(await measure(bench, runner, plainJob));
      image.push(await measure(bench, runner, imageJob));
    }
    return { first, plain, image };
  } finally {
    bench.stack.emulator.setPhases(DEFAULT_PHASES);
  }
}

/** Peak RSS (max over the runs, MiB) of `custom run … build_script` on a live task, and of `node -e 0`. */
interface RunRss {
  readonly plainMiB: number;
  readonly imageMiB: number;
  readonly nodeMiB: number;
}

/**
 * The peak RSS of one job's `build_script` run stage, `runs` times on one live task. The image job names its image as
 * gitlab-runner's `CI_JOB_IMAGE` (the driver's fallback without a job payload), so its run stage goes to the build
 * container through the job agent. NaN when the run stage is not a Node process (the reporter cannot load).
 */
async function runStageRss(bench: SuiteContext['bench'], runs: number, image?: string): Promise<number> {
  const job = new DriverJob(image === undefined ? bench : { ...bench, env: { ...bench.env, CUSTOM_ENV_CI_JOB_IMAGE: image } });
  try {
    await job.prepare();
    const script = job.script('echo', 'echo "hello from the run stage"');
    const rss: number[] = [];
    for (let i = 0; i < runs; i += 1) rss.push((await job.run(script, 'build_script', { measureRss: true })).maxRssMiB ?? Number.NaN);
    return max(rss);
  } finally {
    await job.driver(['cleanup']).catch(() => undefined);
    job.dispose();
  }
}

async function measureRunRss(ctx: SuiteContext): Promise<RunRss> {
  const runs = ctx.settings.rssRuns;
  ctx.progress(`job-image: peak RSS of ${runs} build_script run stage(s), plain and image`);
  const nodeRss: number[] = [];
  for (let i = 0; i < runs; i += 1) nodeRss.push((await runTimed(process.execPath, ['-e', '0'], { measureRss: true })).maxRssMiB ?? Number.NaN);
  return { plainMiB: await runStageRss(ctx.bench, runs), imageMiB: await runStageRss(ctx.bench, runs, JOB_IMAGE), nodeMiB: max(nodeRss) };
}

/** Medians of the plain and image jobs, and what the image job costs over the plain one. */
function figuresOf({ first, plain, image }: Measured, rss: RunRss): Record<string, number> {
  const m = (jobs: readonly ImageMeasurement[], pick: (j: ImageMeasurement) => number) => median(jobs.map(pick));
  const figures = {
    jobs: image.length,
    plainPrepareSeconds: m(plain, (j) => j.prepareSeconds),
    imagePrepareSeconds: m(image, (j) => j.prepareSeconds),
    firstImagePrepareSeconds: first.prepareSeconds,
    plainContainerStartSeconds: m(plain, (j) => j.containerStartSeconds),
    imageContainerStartSeconds: m(image, (j) => j.containerStartSeconds),
    plainFirstByteMs: m(plain, (j) => j.runTaskToFirstByteMs),
    imageFirstByteMs: m(image, (j) => j.runTaskToFirstByteMs),
    plainDriverSeconds: m(plain, (j) => j.overheadSeconds + j.containerStartSeconds),
    imageDriverSeconds: m(image, (j) => j.overheadSeconds + j.containerStartSeconds),
    plainOverheadSeconds: m(plain, (j) => j.overheadSeconds),
    plainRunRssMiB: rss.plainMiB,
    imageRunRssMiB: rss.imageMiB,
    nodeRssMiB: rss.nodeMiB,
    imageOverheadSeconds: m(image, (j) => j.overheadSeconds),
  };
  return {
    ...figures,
    prepareRatio: figures.imagePrepareSeconds / figures.plainPrepareSeconds,
    firstByteRatio: figures.imageFirstByteMs / figures.plainFirstByteMs,
    driverRatio: figures.imageDriverSeconds / figures.plainDriverSeconds,
    runRssRatio: figures.imageRunRssMiB / figures.plainRunRssMiB,
    imageRunRssOverNode: figures.imageRunRssMiB / figures.nodeRssMiB,
    overheadRatio: figures.imageOverheadSeconds / figures.plainOverheadSeconds,
  };
}

function comparisonTable(measured: Measured, f: Record<string, number>): Table {
  const n = (key: string, digits: number) => fmt(f[key] ?? Number.NaN, digits);
  const ratio = (key: string) => `${n(key, 2)}×`;
  return {
    title: `A job with image: against the same plain job (${measured.image.length} of each, alternating, emulator phases 0 ms; medians)`,
    columns: ['', 'plain job', 'image: job', 'image / plain'],
    rows: [
      ['prepare (whole call), s', n('plainPrepareSeconds', 3), n('imagePrepareSeconds', 3), ratio('prepareRatio')],
      ['  containers\' own start (RunTask → RUNNING), s', n('plainContainerStartSeconds', 3), n('imageContainerStartSeconds', 3), ''],
      ['RunTask → first script byte, ms', n('plainFirstByteMs', 0), n('imageFirstByteMs', 0), ratio('firstByteRatio')],
      ['all driver calls, s', n('plainDriverSeconds', 3), n('imageDriverSeconds', 3), ratio('driverRatio')],
      ['driver overhead (all calls − containers\' start), s', n('plainOverheadSeconds', 3), n('imageOverheadSeconds', 3), ratio('overheadRatio')],
      [`first image job's prepare (definition ${measured.first.definition}), s`, '', n('firstImagePrepareSeconds', 3), ''],
      [`peak RSS of a build_script run stage, MiB (node -e 0: ${n('nodeRssMiB', 1)})`, n('plainRunRssMiB', 1), n('imageRunRssMiB', 1), ratio('runRssRatio')],
    ],
    notes: [
      `image: ${JOB_IMAGE}, the local base image; the task runs gf-init (copies the job agent), the helper and build.`,
      'The image job\'s prepare describes the configured task definition, derives, finds its own in the local cache,',
      'waits for the helper\'s SSH and then the agent\'s in the build container; its run stages go to the build container.',
      'The first image job also registers its task definition (the emulator\'s registration phase at 0 ms).',
      'With this suite in a run, the stack\'s driver TOML has [JobImages] on for every suite.',
    ],
  };
}

/** Issue 12's target: RunTask → first script byte with an injected image at most 1.5× the plain path's. */
function firstByteTarget(f: Record<string, number>): TargetCheck {
  const ratio = f.firstByteRatio ?? Number.NaN;
  return {
    name: 'image: RunTask → first script byte',
    target: '≤ 1.5× the plain job',
    measured: `${fmt(ratio, 2)}×`,
    met: ratio <= 1.5,
    note: `${fmt(f.imageFirstByteMs ?? Number.NaN)} ms against ${fmt(f.plainFirstByteMs ?? Number.NaN)} ms: gf-init must exit before build starts, ` +
      "then prepare waits for the helper's SSH and the agent's",
  };
}

/** Issue 12's other target: a run stage of an image job keeps the plain run stage's peak RSS (≤ 1.2× node -e 0). */
function runRssTarget(f: Record<string, number>): TargetCheck {
  const overNode = f.imageRunRssOverNode ?? Number.NaN;
  return {
    name: 'image: peak RSS of a run stage',
    target: '≤ 1.2× node -e 0',
    measured: `${fmt(overNode, 2)}×`,
    met: overNode <= 1.2,
    note: `${fmt(f.imageRunRssMiB ?? Number.NaN, 1)} MiB against ${fmt(f.plainRunRssMiB ?? Number.NaN, 1)} MiB for the plain job's run stage ` +
      `(${fmt(f.runRssRatio ?? Number.NaN, 2)}×) and ${fmt(f.nodeRssMiB ?? Number.NaN, 1)} MiB for node -e 0: an image costs the run stage ` +
      'nothing; the plain run stage is itself over 1.2× node -e 0 when this misses',
  };
}

/**
 * A job with `image:` against the same job without, in one run: prepare, RunTask → first script byte, and the
 * driver's overhead per job (the containers' own start subtracted), each as a ratio image / plain.
 */
export async function jobImageSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const measured = await measureJobs(ctx);
  const figures = figuresOf(measured, await measureRunRss(ctx));
  return {
    id: 'job-image',
    title: 'Job image: an image: job against a plain one',
    tables: [comparisonTable(measured, figures)],
    targets: [firstByteTarget(figures), runRssTarget(figures)],
    // A run stage that is not a Node process has no peak RSS to report: its figures are left out, not NaN.
    figures: Object.fromEntries(Object.entries(figures).filter(([, value]) => Number.isFinite(value))),
    seconds: (performance.now() - started) / 1000,
  };
}
