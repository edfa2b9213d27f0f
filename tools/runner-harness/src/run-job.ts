import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stageScript } from './bash-script.js';
import { callDriver, type DriverCallResult } from './driver-process.js';
import type { JobSpec } from './job.js';
import {
  buildFailureExitCode,
  driverEnvironment,
  jobIdentity,
  jobResponse,
  jobVariables,
  systemFailureExitCode,
  type BuildLocation,
  type JobFiles,
  type JobIdentity,
} from './job-environment.js';
import { JobLog, type JobLogSink } from './job-log.js';
import type { RunnerSettings } from './runner-settings.js';
import { afterScriptStage, leadingStages, trailingStages, type StagePlan } from './stages.js';

/** How a job ended, in gitlab-runner's terms. */
export type JobOutcome = 'success' | 'script_failure' | 'system_failure' | 'timed_out' | 'canceled';

/** How long one phase of the job took. */
export interface PhaseTiming {
  /** `config`, `prepare`, a stage name, or `cleanup`. */
  readonly phase: string;
  readonly seconds: number;
  readonly exitCode: number | null;
}

/** The result gitlab-runner would report to GitLab. */
export interface JobResult {
  readonly outcome: JobOutcome;
  /** The script's own exit code, for a script failure. */
  readonly exitCode?: number;
  /** Why the job did not succeed, as the job log says it. */
  readonly reason?: string;
  readonly jobId: number;
  readonly prepareAttempts: number;
  readonly timings: readonly PhaseTiming[];
  readonly seconds: number;
}

/** One job to run through a custom-executor driver. */
export interface RunJobOptions {
  readonly runner: RunnerSettings;
  readonly job: JobSpec;
  /**
   * Ids and token of the job.
   * @default - random ids, project `demo/fargate-project`
   */
  readonly identity?: Partial<JobIdentity>;
  /**
   * Where the job log goes (config stderr, prepare and run output, the harness's own lines).
   * @default process.stdout
   */
  readonly log?: JobLogSink;
  /**
   * Where the runner's own log goes (cleanup output).
   * @default process.stderr
   */
  readonly runnerLog?: JobLogSink;
  /**
   * Attempts at config + prepare before the job fails (`PreparationRetries`).
   * @default 3
   */
  readonly prepareAttempts?: number;
  /**
   * Pause between failed prepare attempts, in ms (`PreparationRetryInterval`).
   * @default 3000
   */
  readonly prepareRetryIntervalMs?: number;
  /**
   * The runner's own environment, passed to every driver call.
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Cancels the job, as a user pressing "Cancel" in GitLab does. */
  readonly signal?: AbortSignal;
}

type StepResult =
  | { readonly kind: 'ok' }
  | { readonly kind: Exclude<JobOutcome, 'success'>; readonly exitCode?: number; readonly reason: string };

interface Executor {
  readonly files: JobFiles;
  readonly location: BuildLocation;
  readonly variables: Record<string, string>;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Runs one job the way gitlab-runner's custom executor does: config, prepare (retried, with cleanup after
 * each failed attempt), every stage through `run_exec`, and cleanup, all under the job's timeout.
 */
export async function runJob(options: RunJobOptions): Promise<JobResult> {
  return new JobRun(options).run();
}

class JobRun {
  private readonly log: JobLog;
  private readonly runnerLog: JobLogSink;
  private readonly identity: JobIdentity;
  private readonly custom: RunnerSettings['custom'];
  private readonly timings: PhaseTiming[] = [];
  private readonly started = performance.now();
  private readonly deadline: number;

  constructor(private readonly options: RunJobOptions) {
    this.log = new JobLog(options.log ?? process.stdout);
    this.runnerLog = options.runnerLog ?? process.stderr;
    this.identity = jobIdentity(options.identity);
    this.custom = options.runner.custom;
    this.deadline = this.started + options.job.timeoutSeconds * 1000;
  }

  async run(): Promise<JobResult> {
    const { job } = this.options;
    this.log.info(`Running job ${this.identity.jobId} "${job.name}" with gitlab-fargate runner-harness (plays gitlab-runner's custom-executor side)`);
    const attempts = this.options.prepareAttempts ?? 3;
    let attempt = 0;
    let executor: Executor | undefined;
    let failure: StepResult | undefined;
    while (attempt < attempts) {
      attempt += 1;
      const prepared = await this.prepare();
      if ('files' in prepared) {
        executor = prepared;
        failure = undefined;
        break;
      }
      failure = prepared.failure;
      this.log.error(`Preparation failed: ${failure.kind === 'ok' ? '' : failure.reason}`);
      if (prepared.partial) await this.cleanup(prepared.partial);
      const retryable = failure.kind === 'system_failure' && !this.options.signal?.aborted;
      if (!retryable || attempt >= attempts) break;
      const pause = this.options.prepareRetryIntervalMs ?? 3000;
      this.log.info(`Will be retried in ${pause / 1000}s ...`);
      await sleep(pause);
    }

    if (executor) {
      failure = await this.runStages(executor);
      await this.cleanup(executor);
    }
    return this.finish(failure, attempt);
  }

  /** One prepare attempt: a fresh temporary folder, the config stage, then prepare_exec. */
  private async prepare(): Promise<Executor | { failure: StepResult; partial?: Executor }> {
    const tmpDir = await mkdtemp(join(tmpdir(), 'custom-executor'));
    const files: JobFiles = {
      tmpDir,
      buildExitCodeFile: join(tmpDir, 'build_exit_code'),
      jobResponseFile: join(tmpDir, 'response.json'),
    };
    const { runner, job } = this.options;
    const baseEnv = this.options.env ?? process.env;
    const defaultLocation: BuildLocation = { buildsDir: runner.buildsDir, cacheDir: runner.cacheDir, buildsDirIsShared: false };
    const preliminary = jobVariables(job, runner, this.identity, defaultLocation);
    await writeFile(files.jobResponseFile, JSON.stringify(jobResponse(job, this.identity, preliminary)), { mode: 0o600 });

    let location = defaultLocation;
    let jobEnv: Record<string, string> = {};
    this.log.section('Preparing the "custom" executor');
    if (this.custom.configExec) {
      const stdout: Buffer[] = [];
      const result = await this.call('config', this.custom.configExec, this.custom.configArgs, this.custom.configExecTimeout,
        { files, env: driverEnvironment(baseEnv, files, preliminary) }, (chunk) => stdout.push(chunk), (chunk) => this.log.raw(chunk));
      const failure = this.classify(result, 'config_exec', files, this.custom.configExecTimeout);
      const partial = { files, location, variables: preliminary, env: driverEnvironment(baseEnv, files, preliminary) };
      if (failure.kind !== 'ok') return { failure, partial };
      const parsed = parseConfigOutput(Buffer.concat(stdout).toString('utf8'));
      if ('error' in parsed) return { failure: { kind: 'system_failure', reason: parsed.error }, partial };
      const answer = parsed.output;
      location = {
        buildsDir: answer.builds_dir ?? location.buildsDir,
        cacheDir: answer.cache_dir ?? location.cacheDir,
        buildsDirIsShared: answer.builds_dir_is_shared ?? false,
      };
      jobEnv = answer.job_env ?? {};
      const driver = answer.driver ? ` with driver ${answer.driver.name ?? ''} ${answer.driver.version ?? ''}`.trimEnd() : '';
      this.log.info(`Using Custom executor${driver}...`);
    } else {
      this.log.info('Using Custom executor...');
    }

    const variables = jobVariables(job, runner, this.identity, location);
    const executor: Executor = { files, location, variables, env: driverEnvironment(baseEnv, files, variables, jobEnv) };
    if (this.custom.prepareExec) {
      const result = await this.call('prepare', this.custom.prepareExec, this.custom.prepareArgs, this.custom.prepareExecTimeout,
        executor, (chunk) => this.log.raw(chunk), (chunk) => this.log.raw(chunk));
      const failure = this.classify(result, 'prepare_exec', files, this.custom.prepareExecTimeout);
      if (failure.kind !== 'ok') return { failure, partial: executor };
    }
    return executor;
  }

  /** The stages, in gitlab-runner's order; after_script and the trailing stages run after a script failure too. */
  private async runStages(executor: Executor): Promise<StepResult | undefined> {
    let failure: StepResult | undefined;
    for (const stage of leadingStages(this.options.job)) {
      const result = await this.runStage(executor, stage);
      if (result.kind !== 'ok') {
        failure = result;
        break;
      }
    }
    if (failure && failure.kind !== 'script_failure') return failure;

    const afterScript = afterScriptStage(this.options.job);
    if (afterScript) {
      const status = failure ? 'failed' : 'success';
      const result = await this.runStage(executor, afterScript, { CI_JOB_STATUS: status });
      if (result.kind === 'timed_out' || result.kind === 'canceled') return failure ?? result;
      if (result.kind !== 'ok') this.log.warning(`after_script failed, but the job result does not change: ${result.reason}`);
    }
    for (const stage of trailingStages(!failure)) {
      const result = await this.runStage(executor, stage);
      if (result.kind !== 'ok') return failure ?? result;
    }
    return failure;
  }

  private async runStage(executor: Executor, stage: StagePlan, extra: Record<string, string> = {}): Promise<StepResult> {
    this.log.section(stage.title);
    const scriptDir = await mkdtemp(join(executor.files.tmpDir, 'script'));
    const scriptPath = join(scriptDir, 'script');
    const variables = { ...executor.variables, ...extra };
    const script = stageScript({
      variables,
      body: stage.body,
      ...(stage.inProjectDir ? { workingDirectory: variables.CI_PROJECT_DIR! } : {}),
    });
    await writeFile(scriptPath, script, { mode: 0o700 });
    await rm(executor.files.buildExitCodeFile, { force: true });
    const remainingSeconds = Math.max(0, (this.deadline - performance.now()) / 1000);
    const result = await this.call(stage.name, this.custom.runExec, [...this.custom.runArgs, scriptPath, stage.name], remainingSeconds,
      executor, (chunk) => this.log.raw(chunk), (chunk) => this.log.raw(chunk));
    return this.classify(result, `run_exec (${stage.name})`, executor.files, remainingSeconds, true);
  }

  /** Always runs, with its own fresh timeout and no cancellation: gitlab-runner's background context. */
  private async cleanup(executor: Executor): Promise<void> {
    if (this.custom.cleanupExec) {
      const write = (stream: string) => (chunk: Buffer) => this.runnerLog.write(prefixLines(chunk.toString('utf8'), `cleanup_std=${stream} `));
      const result = await this.call('cleanup', this.custom.cleanupExec, this.custom.cleanupArgs, this.custom.cleanupExecTimeout,
        executor, write('out'), write('err'), false);
      const failure = this.classify(result, 'cleanup_exec', executor.files, this.custom.cleanupExecTimeout);
      if (failure.kind !== 'ok') this.log.warning(`Cleanup script failed: ${failure.reason}`);
    }
    await rm(executor.files.tmpDir, { recursive: true, force: true });
  }

  private async call(
    phase: string,
    executable: string,
    args: readonly string[],
    timeoutSeconds: number,
    executor: Pick<Executor, 'files' | 'env'>,
    onStdout: (chunk: Buffer) => void,
    onStderr: (chunk: Buffer) => void,
    cancellable = true,
  ): Promise<DriverCallResult> {
    const signal = cancellable ? this.options.signal : undefined;
    const result = await callDriver({
      executable,
      args,
      cwd: executor.files.tmpDir,
      env: executor.env,
      timeoutMs: timeoutSeconds * 1000,
      gracefulKillMs: this.custom.gracefulKillTimeout * 1000,
      forceKillMs: this.custom.forceKillTimeout * 1000,
      onStdout,
      onStderr,
      ...(signal ? { signal } : {}),
    }).catch((error: Error): DriverCallResult => {
      this.log.error(error.message);
      return { exitCode: null, signal: null, abandoned: false, durationMs: 0 };
    });
    this.timings.push({ phase, seconds: result.durationMs / 1000, exitCode: result.exitCode });
    return result;
  }

  /** gitlab-runner's reading of a driver's exit (executors/custom/command: waitForCommand, parseBuildFailure). */
  private classify(result: DriverCallResult, what: string, files: JobFiles, timeoutSeconds: number, isRunStage = false): StepResult {
    if (result.stoppedBy === 'cancel') return { kind: 'canceled', reason: 'canceled' };
    if (result.stoppedBy === 'timeout') {
      if (isRunStage || performance.now() >= this.deadline) {
        return { kind: 'timed_out', reason: `execution took longer than ${formatDuration(this.options.job.timeoutSeconds)} seconds` };
      }
      return { kind: 'system_failure', reason: `${what} timed out after ${timeoutSeconds} s` };
    }
    if (result.abandoned) return { kind: 'system_failure', reason: `${what} did not exit after SIGKILL and was abandoned` };
    if (result.exitCode === 0) return { kind: 'ok' };
    if (result.exitCode === buildFailureExitCode) {
      const exitCode = readBuildExitCode(files.buildExitCodeFile);
      return { kind: 'script_failure', exitCode, reason: `exit code ${exitCode}` };
    }
    if (result.exitCode === systemFailureExitCode) return { kind: 'system_failure', reason: `${what}: exit status ${systemFailureExitCode}` };
    if (result.exitCode === null) return { kind: 'system_failure', reason: `${what}: killed by ${result.signal ?? 'a signal'}` };
    return { kind: 'system_failure', reason: `${what}: unknown Custom executor executable exit code ${result.exitCode}` };
  }

  private finish(failure: StepResult | undefined, prepareAttempts: number): JobResult {
    const seconds = (performance.now() - this.started) / 1000;
    this.log.info('');
    this.log.section('Timings');
    for (const timing of this.timings) {
      this.log.info(`  ${timing.phase.padEnd(30)} ${timing.seconds.toFixed(2).padStart(8)} s   exit ${timing.exitCode ?? '-'}`);
    }
    this.log.info(`  ${'total'.padEnd(30)} ${seconds.toFixed(2).padStart(8)} s`);
    const base = { jobId: this.identity.jobId, prepareAttempts, timings: this.timings, seconds };
    if (!failure || failure.kind === 'ok') {
      this.log.success('Job succeeded');
      return { ...base, outcome: 'success' };
    }
    if (failure.kind === 'system_failure') this.log.error(`Job failed (system failure): ${failure.reason}`);
    else this.log.error(`Job failed: ${failure.reason}`);
    return { ...base, outcome: failure.kind, reason: failure.reason, ...(failure.exitCode !== undefined ? { exitCode: failure.exitCode } : {}) };
  }
}

interface ConfigOutput {
  builds_dir?: string;
  cache_dir?: string;
  builds_dir_is_shared?: boolean;
  hostname?: string;
  driver?: { name?: string; version?: string };
  job_env?: Record<string, string>;
  shell?: string;
}

function parseConfigOutput(stdout: string): { output: ConfigOutput } | { error: string } {
  if (stdout.trim() === '') return { output: {} };
  try {
    const output: unknown = JSON.parse(stdout);
    if (typeof output !== 'object' || output === null || Array.isArray(output)) {
      return { error: 'error while parsing JSON output: config_exec must print one JSON object' };
    }
    return { output: output as ConfigOutput };
  } catch (error) {
    return { error: `error while parsing JSON output: ${(error as Error).message}` };
  }
}

function readBuildExitCode(file: string): number {
  // The driver writes it just before exiting; gitlab-runner reads the first line as an integer.
  try {
    const firstLine = readFileSync(file, 'utf8').split('\n')[0]!.trim();
    const code = Number.parseInt(firstLine, 10);
    return Number.isInteger(code) ? code : buildFailureExitCode;
  } catch {
    return buildFailureExitCode;
  }
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return `${h > 0 ? `${h}h` : ''}${m}m${s}s`;
}

function prefixLines(text: string, prefix: string): string {
  return text.split('\n').map((line, i, all) => (i === all.length - 1 && line === '' ? '' : `${prefix}${line}`)).join('\n');
}
