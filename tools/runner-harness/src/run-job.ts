import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseGoDurationSeconds } from '@gitlab-fargate/config';
import { stageScript, type ScriptShape } from './bash-script.js';
import { callDriver, type DriverCallResult } from './driver-process.js';
import type { JobSpec } from './job.js';
import { parseConfigOutput } from './config-output.js';
import { readDriverExit } from './exit-status.js';
import {
  driverEnvironment,
  gitlabJobVariables,
  jobIdentity,
  jobResponse,
  jobVariables,
  projectDir,
  systemFailureExitCode,
  type BuildLocation,
  type JobFiles,
  type JobIdentity,
} from './job-environment.js';
import { JobLog, type JobLogSink } from './job-log.js';
import type { RunnerSettings } from './runner-settings.js';
import { RunContext, type ContextCause } from './run-context.js';
import {
  afterScriptStage,
  archiveCacheStage,
  buildScriptStage,
  cleanupFileVariablesStage,
  downloadArtifactsStage,
  getSourcesStage,
  prepareScriptStage,
  restoreCacheStage,
  uploadArtifactsStage,
  type StagePlan,
} from './stages.js';

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
  /**
   * The runner's `prepare_timeout`: bounds config, prepare (every attempt) and the prepare_script stage together,
   * counted from the job's start. Wins over config.toml's `prepare_timeout` ({@link RunnerSettings.prepareTimeout}).
   * As in gitlab-runner, 0 or less, or more than the job's timeout, means the job's timeout.
   * @default config.toml's `prepare_timeout`, else the job's timeout
   */
  readonly prepareTimeoutSeconds?: number;
  /**
   * Which gitlab-runner's stage scripts to write: `19.1` (`(trap 'exit 1' TERM; eval $'…') < /dev/null`) or `19.0`
   * (`trap exit 1 TERM` … `: | eval $'…'`).
   * @default '19.1'
   */
  readonly scriptShape?: ScriptShape;
  /**
   * Cancels the job, as a user pressing "Cancel" in GitLab does: before the script it ends the job; during the
   * script it stops the script, and after_script (`CI_JOB_STATUS=canceled`), the failure stages and
   * cleanup_file_variables still run; later it changes nothing.
   */
  readonly signal?: AbortSignal;
}

/** A driver call or stage that did not succeed, and what it makes of the job. */
interface Failure {
  readonly kind: Exclude<JobOutcome, 'success'>;
  readonly exitCode?: number;
  readonly reason: string;
}

interface Executor {
  readonly files: JobFiles;
  readonly location: BuildLocation;
  readonly variables: Record<string, string>;
  readonly env: NodeJS.ProcessEnv;
}

/** `GetPrepareTimeout` (common/build.go): the prepare timeout asked for when positive and within the job's, else the job's. */
function prepareTimeoutSeconds(asked: number | undefined, jobSeconds: number): number {
  return asked !== undefined && asked > 0 && asked <= jobSeconds ? asked : jobSeconds;
}

/** `AfterScriptTimeout` in gitlab-runner's common/consts.go: after_script's own bound. */
export const afterScriptTimeoutSeconds = 5 * 60;

/**
 * Runs one job the way gitlab-runner's custom executor does (common/build.go, executors/custom/custom.go):
 * config and prepare (retried, with cleanup after each failed attempt) under the prepare timeout, every stage
 * the job needs through `run_exec`, and cleanup, all under the job's timeout. A cancel during the script stops
 * the script only: after_script, the failure stages and cleanup_file_variables still run, as they do in
 * gitlab-runner.
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
  /** The job's context: its timeout, and a cancel before the script starts. */
  private readonly jobCtx: RunContext;
  /** `prepare_timeout`: bounds config, prepare and prepare_script (common/build.go `GetPrepareTimeout`). */
  private readonly prepareCtx: RunContext;
  private readonly prepareTimeout: ContextCause;
  /** What a cancel ends: the job until the script starts, then the script's own context (`trace.SetCancelFunc`). */
  private cancelTarget: RunContext;

  constructor(private readonly options: RunJobOptions) {
    this.log = new JobLog(options.log ?? process.stdout);
    this.runnerLog = options.runnerLog ?? process.stderr;
    this.identity = jobIdentity(options.identity);
    this.custom = options.runner.custom;
    const jobSeconds = options.job.timeoutSeconds;
    this.jobCtx = new RunContext(undefined, jobSeconds * 1000, { kind: 'timed_out', reason: timeoutReason(jobSeconds) });
    const prepareSeconds = prepareTimeoutSeconds(options.prepareTimeoutSeconds ?? options.runner.prepareTimeout, jobSeconds);
    this.prepareTimeout = { kind: 'timed_out', reason: `prepare timeout: exceeded timeout of ${formatDuration(prepareSeconds)}` };
    this.prepareCtx = this.jobCtx.child(prepareSeconds * 1000, this.prepareTimeout);
    this.cancelTarget = this.jobCtx;
  }

  async run(): Promise<JobResult> {
    const onCancel = () => this.cancelTarget.end({ kind: 'canceled' });
    if (this.options.signal?.aborted) onCancel();
    this.options.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      this.log.info(`Running job ${this.identity.jobId} "${this.options.job.name}" with gitlab-fargate runner-harness (plays gitlab-runner's custom-executor side)`);
      const { executor, failure: prepareFailure, attempts } = await this.prepareExecutor();
      let failure = prepareFailure;
      if (executor) {
        failure = await this.runStages(executor);
        // b.run: once the job's context ended, its cause is the job's result, whatever the stages said.
        if (this.jobCtx.cause) failure = fromCause(this.jobCtx.cause);
        await this.cleanup(executor);
      }
      return this.finish(failure, attempts);
    } finally {
      this.options.signal?.removeEventListener('abort', onCancel);
      this.prepareCtx.release();
      this.jobCtx.release();
    }
  }

  /** `retryCreateExecutor`: up to 3 attempts; a script failure or an ended prepare context is not retried. */
  private async prepareExecutor(): Promise<{ executor?: Executor; failure?: Failure; attempts: number }> {
    const attempts = this.options.prepareAttempts ?? 3;
    let failure: Failure | undefined;
    let attempt = 0;
    while (attempt < attempts) {
      attempt += 1;
      const prepared = await this.prepare();
      if ('files' in prepared) return { executor: prepared, attempts: attempt };
      failure = prepared.failure;
      if (prepared.partial) await this.cleanup(prepared.partial);
      if (failure.kind === 'script_failure') break;
      if (this.prepareCtx.cause) {
        failure = fromCause(this.prepareCtx.cause);
        break;
      }
      this.log.error(`Preparation failed: ${failure.reason}`);
      if (attempt >= attempts) break;
      const pause = this.options.prepareRetryIntervalMs ?? 3000;
      this.log.info(`Will be retried in ${pause / 1000}s ...`);
      await sleep(pause, undefined, { signal: this.prepareCtx.signal }).catch(() => undefined);
      if (this.prepareCtx.cause) {
        failure = fromCause(this.prepareCtx.cause);
        break;
      }
    }
    // Build.Run: a failed preparation after the prepare timeout is reported as that timeout.
    if (this.prepareCtx.cause === this.prepareTimeout) failure = fromCause(this.prepareTimeout);
    return { failure: failure!, attempts: attempt };
  }

  /** One prepare attempt: a fresh temporary folder, the config stage, then prepare_exec. */
  private async prepare(): Promise<Executor | { failure: Failure; partial?: Executor }> {
    const tmpDir = await mkdtemp(join(tmpdir(), 'custom-executor'));
    const files: JobFiles = {
      tmpDir,
      buildExitCodeFile: join(tmpDir, 'build_exit_code'),
      jobResponseFile: join(tmpDir, 'response.json'),
    };
    const { runner, job } = this.options;
    const baseEnv = this.options.env ?? process.env;
    const defaultLocation: BuildLocation = { buildsDir: runner.buildsDir, cacheDir: runner.cacheDir, buildsDirIsShared: false };
    // During config the builds folder is not known yet: CI_BUILDS_DIR and CI_PROJECT_DIR are empty.
    const preliminary = jobVariables(job, runner, this.identity, { buildsDir: '', cacheDir: '', buildsDirIsShared: false });
    const sentByGitLab = gitlabJobVariables(job, runner, this.identity);
    await writeFile(files.jobResponseFile, JSON.stringify(jobResponse(job, this.identity, sentByGitLab)), { mode: 0o600 });

    let location = defaultLocation;
    let jobEnv: Record<string, string> = {};
    this.log.section('Preparing the "custom" executor');
    if (this.custom.configExec) {
      const stdout: Buffer[] = [];
      const partial = { files, location, variables: preliminary, env: driverEnvironment(baseEnv, files, preliminary) };
      const limits = { timeoutSeconds: this.custom.configExecTimeout, ctx: this.prepareCtx };
      const result = await this.call('config', this.custom.configExec, this.custom.configArgs, partial,
        limits, (chunk) => stdout.push(chunk), (chunk) => this.log.raw(chunk));
      const verdict = readDriverExit(result, 'config_exec', files.buildExitCodeFile);
      if (verdict.kind !== 'ok') return { failure: verdict, partial };
      const parsed = parseConfigOutput(Buffer.concat(stdout).toString('utf8'));
      if ('error' in parsed) return { failure: { kind: 'system_failure', reason: parsed.error }, partial };
      const answer = parsed.output;
      // The harness writes bash only (gitlab-runner's default on Linux); another shell's scripts it cannot write.
      if (answer.shell !== undefined && answer.shell !== 'bash') {
        return { failure: { kind: 'system_failure', reason: `config_exec names shell "${answer.shell}": the harness writes bash scripts only` }, partial };
      }
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
      const limits = { timeoutSeconds: this.custom.prepareExecTimeout, ctx: this.prepareCtx };
      const result = await this.call('prepare', this.custom.prepareExec, this.custom.prepareArgs, executor,
        limits, (chunk) => this.log.raw(chunk), (chunk) => this.log.raw(chunk));
      const verdict = readDriverExit(result, 'prepare_exec', files.buildExitCodeFile);
      if (verdict.kind !== 'ok') return { failure: verdict, partial: executor };
    }
    return executor;
  }

  /**
   * `executeScript`: prepare_script (under the prepare timeout; its failure ends the job), get_sources and the
   * optional download stages, the user's script and after_script unless those failed, then the cache and
   * artifact stages for the result and, always, cleanup_file_variables.
   */
  private async runStages(executor: Executor): Promise<Failure | undefined> {
    const { job } = this.options;
    const temporaryPath = `${projectDir(executor.location, this.options.runner.token, this.identity)}.tmp`;
    const prepared = await this.runStage(executor, prepareScriptStage(temporaryPath), this.prepareCtx);
    if (prepared) {
      if (this.prepareCtx.cause === this.prepareTimeout) return fromCause(this.prepareTimeout);
      return { ...prepared, reason: `prepare environment: ${prepared.reason}` };
    }
    let failure = await this.runStage(executor, getSourcesStage(), this.jobCtx);
    for (const stage of [restoreCacheStage(job), downloadArtifactsStage(job)]) {
      if (!failure && stage) failure = await this.runStage(executor, stage, this.jobCtx);
    }
    if (!failure) failure = await this.runUserScripts(executor);
    const succeeded = failure === undefined;
    for (const stage of [archiveCacheStage(job, succeeded), uploadArtifactsStage(job, succeeded)]) {
      const result = stage && (await this.runStage(executor, stage, this.jobCtx));
      failure ??= result;
    }
    const fileVariables = Object.keys(job.fileVariables ?? {});
    const cleaned = await this.runStage(executor, cleanupFileVariablesStage(temporaryPath, fileVariables), this.jobCtx);
    if (cleaned) this.log.warning(`Error while executing file based variables removal script: ${cleaned.reason}`);
    return failure;
  }

  /** `executeUserScripts`: the script under a context a cancel ends, then after_script under its own 5 minutes. */
  private async runUserScripts(executor: Executor): Promise<Failure | undefined> {
    const scriptCtx = this.jobCtx.child();
    this.cancelTarget = scriptCtx;
    let failure = await this.runStage(executor, buildScriptStage(this.options.job), scriptCtx);
    if (!this.jobCtx.cause && scriptCtx.cause?.kind === 'canceled') failure = { kind: 'canceled', reason: 'canceled' };
    scriptCtx.release();
    // executeAfterScript overwrites CI_JOB_STATUS in the job's variables, with or without an after_script: the
    // after_script stage and every later one see it, in their scripts and as the driver's CUSTOM_ENV_CI_JOB_STATUS.
    const status = jobStatus(failure);
    executor.variables.CI_JOB_STATUS = status;
    executor.env.CUSTOM_ENV_CI_JOB_STATUS = status;
    const afterScript = afterScriptStage(this.options.job);
    if (!afterScript) return failure;
    const afterSeconds = this.afterScriptTimeoutSeconds();
    const afterCtx = this.jobCtx.child(afterSeconds * 1000, { kind: 'timed_out', reason: `after_script timeout: exceeded timeout of ${formatDuration(afterSeconds)}` });
    const afterFailure = await this.runStage(executor, afterScript, afterCtx);
    afterCtx.release();
    const jobTimedOut = this.jobCtx.cause?.kind === 'timed_out';
    if (afterFailure && !jobTimedOut) this.log.warning(`after_script failed, but job will continue unaffected: ${afterFailure.reason}`);
    return failure;
  }

  /** `RUNNER_AFTER_SCRIPT_TIMEOUT` (a Go duration) when the job sets it, else 5 minutes. */
  private afterScriptTimeoutSeconds(): number {
    const raw = this.options.job.variables.RUNNER_AFTER_SCRIPT_TIMEOUT;
    const seconds = raw === undefined ? undefined : parseGoDurationSeconds(raw);
    if (raw !== undefined && raw.trim() !== '' && seconds === undefined) {
      this.log.warning(`Ignoring malformed RUNNER_AFTER_SCRIPT_TIMEOUT timeout: ${raw}`);
    }
    return seconds && seconds > 0 ? seconds : afterScriptTimeoutSeconds;
  }

  /** `executeStage`: a stage whose context has ended is not started; its result is the context's cause. */
  private async runStage(executor: Executor, stage: StagePlan, ctx: RunContext): Promise<Failure | undefined> {
    if (ctx.cause) return fromCause(ctx.cause);
    this.log.section(stage.title);
    const scriptDir = await mkdtemp(join(executor.files.tmpDir, 'script'));
    const scriptPath = join(scriptDir, 'script');
    const dir = projectDir(executor.location, this.options.runner.token, this.identity);
    const script = stageScript({
      variables: executor.variables,
      exports: stage.exports ?? 'all',
      fileVariables: Object.keys(this.options.job.fileVariables ?? {}),
      temporaryPath: `${dir}.tmp`,
      ...(this.options.scriptShape ? { shape: this.options.scriptShape } : {}),
      body: stage.body,
      ...(stage.inProjectDir ? { workingDirectory: dir } : {}),
    });
    // The exit-code file is never removed between stages: gitlab-runner leaves it to the driver.
    await writeFile(scriptPath, script, { mode: 0o700 });
    const result = await this.call(stage.name, this.custom.runExec, [...this.custom.runArgs, scriptPath, stage.name], executor,
      { ctx }, (chunk) => this.log.raw(chunk), (chunk) => this.log.raw(chunk));
    const verdict = readDriverExit(result, `run_exec (${stage.name})`, executor.files.buildExitCodeFile);
    return verdict.kind === 'ok' ? undefined : verdict;
  }

  /** Always runs, with its own fresh timeout and no cancellation: gitlab-runner's background context. */
  private async cleanup(executor: Executor): Promise<void> {
    if (this.custom.cleanupExec) {
      const write = (stream: string) => (chunk: Buffer) => this.runnerLog.write(prefixLines(chunk.toString('utf8'), `cleanup_std=${stream} `));
      const result = await this.call('cleanup', this.custom.cleanupExec, this.custom.cleanupArgs, executor,
        { timeoutSeconds: this.custom.cleanupExecTimeout }, write('out'), write('err'));
      const verdict = readDriverExit(result, 'cleanup_exec', executor.files.buildExitCodeFile);
      if (verdict.kind !== 'ok') this.log.warning(`Cleanup script failed: ${verdict.reason}`);
    }
    await rm(executor.files.tmpDir, { recursive: true, force: true });
  }

  /** One driver process, bounded by its `*_exec_timeout` (if any) and by `ctx` (if any). */
  private async call(
    phase: string,
    executable: string,
    args: readonly string[],
    executor: Pick<Executor, 'files' | 'env'>,
    bounds: { readonly timeoutSeconds?: number; readonly ctx?: RunContext },
    onStdout: (chunk: Buffer) => void,
    onStderr: (chunk: Buffer) => void,
  ): Promise<DriverCallResult> {
    const result = await callDriver({
      executable,
      args,
      cwd: executor.files.tmpDir,
      env: executor.env,
      ...(bounds.timeoutSeconds !== undefined ? { timeoutMs: bounds.timeoutSeconds * 1000 } : {}),
      ...(bounds.ctx ? { signal: bounds.ctx.signal } : {}),
      gracefulKillMs: this.custom.gracefulKillTimeout * 1000,
      forceKillMs: this.custom.forceKillTimeout * 1000,
      onStdout,
      onStderr,
    }).catch((error: Error): DriverCallResult => {
      // "failed to start command": the runner reports it as a system failure.
      this.log.error(error.message);
      return { exitCode: systemFailureExitCode, signal: null, abandoned: false, durationMs: 0 };
    });
    this.timings.push({ phase, seconds: result.durationMs / 1000, exitCode: result.exitCode });
    return result;
  }

  private finish(failure: Failure | undefined, prepareAttempts: number): JobResult {
    const seconds = (performance.now() - this.started) / 1000;
    this.log.info('');
    this.log.section('Timings');
    for (const timing of this.timings) {
      this.log.info(`  ${timing.phase.padEnd(30)} ${timing.seconds.toFixed(2).padStart(8)} s   exit ${timing.exitCode ?? '-'}`);
    }
    this.log.info(`  ${'total'.padEnd(30)} ${seconds.toFixed(2).padStart(8)} s`);
    const base = { jobId: this.identity.jobId, prepareAttempts, timings: this.timings, seconds };
    if (!failure) {
      this.log.success('Job succeeded');
      return { ...base, outcome: 'success' };
    }
    if (failure.kind === 'system_failure') this.log.error(`Job failed (system failure): ${failure.reason}`);
    else this.log.error(`Job failed: ${failure.reason}`);
    const exitCode = failure.exitCode !== undefined ? { exitCode: failure.exitCode } : {};
    return { ...base, outcome: failure.kind, reason: failure.reason, ...exitCode };
  }
}

/** `runtimeStateAndError`: what an ended context makes of the job. */
function fromCause(cause: ContextCause): Failure {
  return cause.kind === 'canceled' ? { kind: 'canceled', reason: 'canceled' } : { kind: 'timed_out', reason: cause.reason };
}

/** `CI_JOB_STATUS` for after_script, as `runtimeStateAndError` names the states. */
function jobStatus(failure: Failure | undefined): string {
  if (!failure) return 'success';
  if (failure.kind === 'canceled') return 'canceled';
  if (failure.kind === 'timed_out') return 'timedout';
  return 'failed';
}

function timeoutReason(seconds: number): string {
  return `execution took longer than ${formatDuration(seconds)} seconds`;
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
