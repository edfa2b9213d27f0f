import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { DriverConfig } from '@gitlab-fargate/config';
import type { CommandLineOverrides } from '../job/command-line.js';
import type { JobEnvironment } from '../job/environment.js';
import { statePath } from '../job/state.js';
import type { Logger } from '../log.js';

/** Everything a stage needs from the outside world, injectable for tests. */
export interface StageContext {
  readonly config: DriverConfig;
  readonly env: JobEnvironment;
  readonly cli: CommandLineOverrides;
  readonly log: Logger;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborted on SIGTERM/SIGINT (job cancelled or timed out); its reason is a `Cancelled` error. */
  readonly signal: AbortSignal;
  /** The process's working directory (the runner's per-job temp dir). */
  readonly cwd: string;
  /** The driver's own script, for helper processes; without it prepare starts no SSH multiplexer. */
  readonly driverEntry?: string;
}

/** Where this job's state file lives: `[TaskMetadata] Directory`, else the stage's working directory. */
export function jobStatePath(ctx: Pick<StageContext, 'config' | 'env' | 'cwd'>): string {
  const directory = resolve(ctx.cwd, ctx.config.taskMetadata.directory ?? '.');
  return statePath(directory, ctx.env.runnerShortToken, ctx.env.jobId);
}
