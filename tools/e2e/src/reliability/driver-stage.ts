import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { jobIdentity, shortToken, stripAnsi, type RunnerSettings } from '@gitlab-fargate/runner-harness';

/**
 * One job as gitlab-runner's custom executor presents it to the driver: a per-job temporary folder (the stages'
 * working directory and TMPDIR), the job payload, the exit-code protocol and the CUSTOM_ENV_* variables. Lets a test
 * call each stage itself, so it can kill a stage at a chosen moment, which the harness (which owns its processes)
 * cannot do.
 */
export class ProtocolJob {
  private constructor(
    readonly jobId: number,
    readonly runnerShortToken: string,
    readonly tmpDir: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly stack: LocalStack,
  ) {}

  /**
   * Creates the job's folder and payload for a runner of the stack; `timeoutSeconds` goes into the payload's
   * `runner_info.timeout`, as gitlab-runner writes it (without it the driver knows no job timeout).
   */
  static async create(stack: LocalStack, runner: RunnerSettings, options: { timeoutSeconds?: number } = {}): Promise<ProtocolJob> {
    const identity = jobIdentity();
    const tmpDir = await mkdtemp(join(tmpdir(), 'reliability-job-'));
    const jobResponseFile = join(tmpDir, 'response.json');
    const payload = {
      id: identity.jobId,
      token: identity.jobToken,
      ...(options.timeoutSeconds !== undefined ? { runner_info: { timeout: options.timeoutSeconds } } : {}),
    };
    await writeFile(jobResponseFile, JSON.stringify(payload), { mode: 0o600 });
    const token = shortToken(runner.token);
    const env: NodeJS.ProcessEnv = {
      ...stack.env,
      TMPDIR: tmpDir,
      BUILD_FAILURE_EXIT_CODE: '1',
      SYSTEM_FAILURE_EXIT_CODE: '2',
      BUILD_EXIT_CODE_FILE: join(tmpDir, 'build_exit_code'),
      JOB_RESPONSE_FILE: jobResponseFile,
      CUSTOM_ENV_CI_JOB_ID: String(identity.jobId),
      CUSTOM_ENV_CI_JOB_TOKEN: identity.jobToken,
      CUSTOM_ENV_CI_PIPELINE_ID: String(identity.pipelineId),
      CUSTOM_ENV_CI_PROJECT_PATH: identity.projectPath,
      CUSTOM_ENV_CI_PROJECT_URL: `https://gitlab.example.com/${identity.projectPath}`,
      CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: token,
    };
    return new ProtocolJob(identity.jobId, token, tmpDir, env, stack);
  }

  /** Starts `custom <stage> [args]` in its own process group, as gitlab-runner does. */
  start(stage: 'prepare' | 'run' | 'cleanup', ...args: string[]): StageProcess {
    return new StageProcess(this.stack, ['custom', stage, ...args], this.tmpDir, this.env);
  }

  /** Starts `custom run` with a bash script written to the job folder. */
  async startRun(lines: readonly string[], stageName = 'build_script'): Promise<StageProcess> {
    const script = join(this.tmpDir, `${stageName}.sh`);
    await writeFile(script, `#!/usr/bin/env bash\nset -eo pipefail\n${lines.join('\n')}\n`, { mode: 0o700 });
    return this.start('run', script, stageName);
  }

  /** `gitlab-fargate-driver gc` for this job's runner: stops tasks the runner started that no live job owns. */
  gc(minAgeSeconds = 0): StageProcess {
    return new StageProcess(this.stack, ['gc', '--min-age', String(minAgeSeconds)], this.tmpDir, this.env);
  }

  /** `gc --without-state` with another driver TOML, as the orphan reaper runs it in an ECS task of its own. */
  reaperGc(configPath: string, minAgeSeconds: number): StageProcess {
    return new StageProcess(this.stack, ['gc', '--without-state', '--min-age', String(minAgeSeconds)], this.tmpDir, this.env, configPath);
  }

  /** Removes the job's folder (gitlab-runner does this after cleanup). */
  async remove(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** How a stage process ended. */
export interface StageExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they came, ANSI colours removed. */
  readonly output: string;
}

/** One running driver process, its output collected, killable as a process group. */
export class StageProcess {
  private readonly child: ChildProcess;
  private text = '';
  private readonly watchers: { pattern: RegExp; resolve: () => void }[] = [];
  /** Resolves when the process has exited and its output pipes are closed. */
  readonly exited: Promise<StageExit>;

  constructor(stack: LocalStack, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, configPath = stack.driverConfigPath) {
    this.child = spawn(stack.driver.executable, [...stack.driver.leadingArgs, '--config', configPath, ...args], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      this.text += stripAnsi(chunk.toString('utf8'));
      for (const watcher of [...this.watchers]) {
        if (watcher.pattern.test(this.text)) {
          this.watchers.splice(this.watchers.indexOf(watcher), 1);
          watcher.resolve();
        }
      }
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => resolve({ code, signal, output: this.text }));
    });
  }

  get output(): string {
    return this.text;
  }

  /** Resolves once the output matches `pattern`, or when the process ends (check `output` then). */
  waitFor(pattern: RegExp): Promise<void> {
    if (pattern.test(this.text)) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.watchers.push({ pattern, resolve })),
      this.exited.then(() => undefined),
    ]);
  }

  /** Signals the whole process group (synchronous: safe inside an emulator callback). */
  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // Already gone.
    }
  }
}
