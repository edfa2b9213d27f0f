import { stateStem } from '../job/state.js';
import { DRIVER_NAME, driverVersion } from '../version.js';
import type { StageContext } from './context.js';

/** Where jobs check out and cache inside the task: the folders the ci-coordinator image creates. */
export const BUILDS_DIR = '/opt/gitlab-runner/builds';
export const CACHE_DIR = '/opt/gitlab-runner/cache';

/** The `config_exec` answer (gitlab-runner's `api.ConfigExecOutput`). */
export interface ConfigOutput {
  readonly driver: { readonly name: string; readonly version: string };
  readonly hostname: string;
  readonly builds_dir: string;
  readonly cache_dir: string;
  readonly builds_dir_is_shared: boolean;
  readonly shell?: string;
}

/**
 * `custom config`: one JSON object on stdout and nothing else there; no AWS calls. `hostname` is the job's
 * state-file stem, so "Running on … via <hostname>" in the job log names the file to look at. No `shell`: the
 * runner's default (bash) is what the task runs.
 */
export function configStage(ctx: StageContext): ConfigOutput {
  const output: ConfigOutput = {
    driver: { name: DRIVER_NAME, version: driverVersion() },
    hostname: stateStem(ctx.env.runnerShortToken, ctx.env.jobId),
    builds_dir: BUILDS_DIR,
    cache_dir: CACHE_DIR,
    // Every job has its own task, so concurrent jobs never share a builds directory.
    builds_dir_is_shared: false,
  };
  ctx.stdout.write(`${JSON.stringify(output)}\n`);
  return output;
}
