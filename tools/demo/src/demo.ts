import { startLocalStack, type LocalStack } from '@gitlab-fargate/local-stack';
import { loadRunnerSettings, runJob, type JobLogSink, type JobResult, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { Clock } from './clock.js';
import { buildDemoImages, DEMO_IMAGES } from './demo-images.js';
import { failingJob, imageAndServiceJob, seedArticleJob, type DemoJob } from './jobs.js';
import { meetsExpectation, summaryLine, summaryTable, type JobReport } from './summary.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /**
   * How many dots (one a second) the seed article's job prints; the article has 30.
   * @default 5
   */
  readonly seconds?: number;
  /**
   * Show the job image's `docker build` output.
   * @default false
   */
  readonly verbose?: boolean;
  /**
   * Where everything goes: progress lines, job logs, the summary.
   * @default process.stdout
   */
  readonly out?: JobLogSink;
  /** Stops the demo early (Ctrl-C): the running job is cancelled, then everything is removed. */
  readonly signal?: AbortSignal;
}

/** What the demo did. */
export interface DemoResult {
  /** Every job ran and ended as expected, and the stack was removed. */
  readonly passed: boolean;
  readonly reports: readonly JobReport[];
  /** The emulator instance, whose Docker label (`gitlab-fargate.ecs-emulator.instance`) marks every task container. */
  readonly emulatorInstance?: string;
  readonly seconds: number;
}


/** Brings up the local stack with job images on, and builds the demo's own images. */
async function startStack(
  options: DemoOptions,
  say: (message: string) => void,
  out: JobLogSink,
): Promise<{ stack: LocalStack; jobs: DemoJob[] }> {
  const onOutput = options.verbose ? (line: string) => out.write(`           docker build | ${line}\n`) : undefined;
  const stack = await startLocalStack({ onProgress: say, jobImages: true, ...(onOutput ? { image: { onOutput } } : {}) });
  try {
    say(`Building the demo's job image (${DEMO_IMAGES.job}) and service image (${DEMO_IMAGES.service})`);
    const images = await buildDemoImages(onOutput);
    return { stack, jobs: [seedArticleJob(options.seconds ?? 5), failingJob(), imageAndServiceJob(images)] };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** Runs one job through the harness, printing its log as GitLab shows it. */
async function runDemoJob(
  stack: LocalStack,
  runner: RunnerSettings,
  job: DemoJob,
  out: JobLogSink,
  signal?: AbortSignal,
): Promise<JobResult> {
  return runJob({
    runner,
    job: job.spec,
    env: stack.env,
    log: out,
    // gitlab-runner's cleanup output goes to its own log, not the job log: shown here, set apart.
    runnerLog: { write: (text) => out.write(text.replace(/^(?=.)/gm, '           runner | ')) },
    prepareRetryIntervalMs: 1000,
    ...(signal ? { signal } : {}),
  });
}

/**
 * The quick-start demo: brings up a local stack (Docker, the ci-coordinator and job-agent images, the ECS emulator,
 * the dev cluster and task definition, `[JobImages]` on), runs the seed article's job, a failing job and a job with
 * `image:` and `services:` through the runner harness and the real driver, prints a summary, and removes everything it
 * started, also when cancelled.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? process.stdout;
  const clock = new Clock();
  // Bold only on a terminal; the job logs keep gitlab-runner's own colours, as a GitLab job page shows them.
  const bold = (text: string) => (out === process.stdout && process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);
  const say = (message: string) => out.write(`${clock.stamp()} ${message}\n`);
  const reports: JobReport[] = [];
  let jobs: readonly DemoJob[] = [];

  say(bold('gitlab-fargate demo: every CI job in its own (emulated) ECS Fargate task'));
  let stack: LocalStack | undefined;
  try {
    ({ stack, jobs } = await startStack(options, say, out));
    say(`ECS emulator at ${stack.endpoint} (instance ${stack.emulator.instanceId}), cluster ${stack.cluster}, task definition ${stack.taskDefinition}`);
    say(`Runner config.toml: ${stack.runnerConfigPath} (custom executor → gitlab-fargate-driver)`);
    const runner = await loadRunnerSettings(stack.runnerConfigPath);

    for (const [index, job] of jobs.entries()) {
      if (options.signal?.aborted) break;
      out.write('\n');
      say(bold(`Job ${index + 1} of ${jobs.length}: "${job.spec.name}", ${job.purpose}`));
      out.write('\n');
      const result = await runDemoJob(stack, runner, job, out, options.signal);
      reports.push({ job, result });
      out.write('\n');
      say(`Job "${job.spec.name}": ${result.outcome}${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ''} in ${result.seconds.toFixed(1)} s`);
    }
  } finally {
    if (stack) {
      out.write('\n');
      say('Removing everything the demo started (tasks, containers, emulator, temporary files)');
      await stack.stop();
      say('Removed');
    }
  }

  const seconds = clock.seconds();
  const cancelled = options.signal?.aborted ?? false;
  const passed = !cancelled && jobs.length > 0 && reports.length === jobs.length && reports.every(meetsExpectation);
  out.write(`\n${bold('Summary')}\n${summaryTable(reports)}\n\n`);
  out.write(`${cancelled ? `Demo cancelled after ${seconds.toFixed(1)} s; everything it started was removed.` : summaryLine(reports, seconds)}\n`);
  return { passed, reports, seconds, ...(stack ? { emulatorInstance: stack.emulator.instanceId } : {}) };
}
