import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BUILDS_DIR } from '@gitlab-fargate/config';
import { expectSuccess, runTimed, type TimedProcessOptions, type TimedProcessResult } from '../measure/timed-process.js';
import type { BenchStack } from './bench-stack.js';

let nextJobId = 900_000 + Math.floor(Math.random() * 90_000);

/** What the driver left in its state file: enough for a plain `ssh` to reach the same container. */
export interface JobTarget {
  readonly address: string;
  readonly port: number;
  readonly username: string;
  readonly privateKeyPath: string;
  readonly taskArn: string;
}

/**
 * One job driven stage by stage, calling the driver as gitlab-runner does (same variables, one process per
 * stage) but without the harness, so a benchmark can time a single stage or repeat one.
 */
export class DriverJob {
  readonly jobId = String(nextJobId++);
  private readonly dir = mkdtempSync(join(tmpdir(), 'gitlab-fargate-bench-job-'));
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly bench: BenchStack) {
    this.env = {
      ...bench.env,
      TMPDIR: this.dir,
      BUILD_FAILURE_EXIT_CODE: '1',
      SYSTEM_FAILURE_EXIT_CODE: '2',
      BUILD_EXIT_CODE_FILE: join(this.dir, 'build-exit-code'),
      CUSTOM_ENV_CI_JOB_ID: this.jobId,
      // What gitlab-runner gives the job: the short token of the stack's runner, which the driver also has as its
      // trusted identity (bench.env), so no stage warns that the two differ.
      CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: bench.stack.runnerShortToken,
      CUSTOM_ENV_CI_PROJECT_DIR: `${DEFAULT_BUILDS_DIR}/bench/project`,
    };
  }

  /** Runs `custom <args>` once; `options` may ask for peak RSS or a slow reader. */
  driver(args: readonly string[], options: Omit<TimedProcessOptions, 'env' | 'cwd'> = {}): Promise<TimedProcessResult> {
    const { executable, leadingArgs } = this.bench.stack.driver;
    return runTimed(executable, [...leadingArgs, '--config', this.bench.stack.driverConfigPath, 'custom', ...args], {
      ...options, env: this.env, cwd: this.dir,
    });
  }

  async prepare(): Promise<TimedProcessResult> {
    return expectSuccess('custom prepare', await this.driver(['prepare']));
  }

  /** Writes a stage script (bash) and returns its path. */
  script(name: string, body: string): string {
    const path = join(this.dir, `${name}.sh`);
    writeFileSync(path, `#!/usr/bin/env bash\nset -eo pipefail\n${body}\n`, { mode: 0o700 });
    return path;
  }

  run(scriptPath: string, stage: string, options: Omit<TimedProcessOptions, 'env' | 'cwd'> = {}): Promise<TimedProcessResult> {
    return this.driver(['run', scriptPath, stage], options);
  }

  async cleanup(): Promise<TimedProcessResult> {
    return expectSuccess('custom cleanup', await this.driver(['cleanup']));
  }

  /** The state file prepare wrote (the driver names it; this job's is the only one carrying its job id). */
  private statePath(): string {
    const directory = this.bench.stack.metadataDirectory;
    for (const name of readdirSync(directory)) {
      if (!name.endsWith('.json')) continue;
      const path = join(directory, name);
      const state = JSON.parse(readFileSync(path, 'utf8')) as { jobId?: string };
      if (state.jobId === this.jobId) return path;
    }
    throw new Error(`no state file for job ${this.jobId} in ${directory}: did prepare run?`);
  }

  /** Saves the state file, so cleanup can be run again later (each run then stops an already-stopped task). */
  saveState(): () => void {
    const path = this.statePath();
    const copy = join(this.dir, 'state-copy.json');
    copyFileSync(path, copy);
    return () => {
      if (!existsSync(path)) copyFileSync(copy, path);
    };
  }

  /**
   * Runs `body` with the job's state file naming no SSH multiplexer, so `custom run` connects on its own as with
   * `[SSH] Multiplex = false`; the multiplexer stays up and is named again afterwards.
   */
  async withoutMultiplexer<T>(body: () => Promise<T>): Promise<T> {
    const path = this.statePath();
    const original = readFileSync(path, 'utf8');
    const { mux: _mux, ...rest } = JSON.parse(original) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify(rest), { mode: 0o600 });
    try {
      return await body();
    } finally {
      writeFileSync(path, original, { mode: 0o600 });
    }
  }

  /** The task's address and the job key, written to a 0600 file for OpenSSH. */
  target(): JobTarget {
    const state = JSON.parse(readFileSync(this.statePath(), 'utf8')) as {
      address: string; port: number; username: string; privateKey: string; taskArn: string;
    };
    const privateKeyPath = join(this.dir, 'id_ed25519');
    writeFileSync(privateKeyPath, state.privateKey.endsWith('\n') ? state.privateKey : `${state.privateKey}\n`, { mode: 0o600 });
    return { address: state.address, port: state.port, username: state.username, privateKeyPath, taskArn: state.taskArn };
  }

  /** Removes the job's temporary folder (the stage scripts, the key copy). */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** OpenSSH client arguments reaching the job's container as the driver does (job key, loopback, no agent). */
export function opensshArgs(target: JobTarget, command: string): string[] {
  return [
    '-i', target.privateKeyPath, '-p', String(target.port),
    '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ControlMaster=no',
    '-F', '/dev/null',
    `${target.username}@${target.address}`, command,
  ];
}
