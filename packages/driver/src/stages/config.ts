import { stateStem } from '../job/state.js';
import { DRIVER_NAME, driverVersion } from '../version.js';
import type { StageContext } from './context.js';

/** Where the job's files live inside the task, unless the configuration says otherwise. */
export const DEFAULT_BUILDS_DIR = '/builds';
export const DEFAULT_CACHE_DIR = '/cache';

/** The `config_exec` answer (gitlab-runner's `api.ConfigExecOutput`). */
export interface ConfigOutput {
  readonly driver: { readonly name: string; readonly version: string };
  readonly hostname: string;
  readonly builds_dir: string;
  readonly cache_dir: string;
  readonly builds_dir_is_shared: boolean;
  readonly shell?: string;
}

/** Job-directory settings the configuration may carry (`[Job]` in newer config models). */
interface JobDirectories {
  readonly buildsDir?: string;
  readonly cacheDir?: string;
  readonly buildsDirIsShared?: boolean;
  readonly shell?: string;
}

/**
 * `custom config`: one JSON object on stdout and nothing else there; no AWS calls. `hostname` is the job's
 * state-file stem, so "Running on … via <hostname>" in the job log names the file to look at.
 */
export function configStage(ctx: StageContext): ConfigOutput {
  const job = ((ctx.config as unknown as { job?: JobDirectories }).job ?? {}) as JobDirectories;
  const output: ConfigOutput = {
    driver: { name: DRIVER_NAME, version: driverVersion() },
    hostname: stateStem(ctx.env.runnerShortToken, ctx.env.jobId),
    builds_dir: job.buildsDir ?? DEFAULT_BUILDS_DIR,
    cache_dir: job.cacheDir ?? DEFAULT_CACHE_DIR,
    // Every job has its own task, so nothing is shared between concurrent jobs.
    builds_dir_is_shared: job.buildsDirIsShared ?? false,
    ...(job.shell !== undefined ? { shell: job.shell } : {}),
  };
  ctx.stdout.write(`${JSON.stringify(output)}\n`);
  return output;
}
