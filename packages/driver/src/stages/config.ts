import { formatIssues, type ConfigIssue } from '@gitlab-fargate/config';
import { stateStem } from '../job/state.js';
import { NATIVE_CLIENT_ENV } from '../ssh/mux/protocol.js';
import { muxSocketBesideState } from '../ssh/mux/socket.js';
import { DRIVER_NAME, driverVersion } from '../version.js';
import { type StageContext, jobStatePath } from './context.js';

/**
 * The `config_exec` answer (gitlab-runner's `api.ConfigExecOutput`). No `builds_dir`/`cache_dir`: as with
 * upstream's driver, gitlab-runner then uses config.toml's `builds_dir`/`cache_dir`, the one place they are set.
 */
export interface ConfigOutput {
  readonly driver: { readonly name: string; readonly version: string };
  readonly hostname: string;
  readonly builds_dir_is_shared: boolean;
  /** The shell the task runs every stage script with. */
  readonly shell: 'bash';
  /** Variables gitlab-runner sets for every later stage of the job: what the native run client needs. */
  readonly job_env?: Readonly<Record<string, string>>;
}

/**
 * `custom config`: one JSON object on stdout and nothing else there; no AWS calls. `hostname` is the job's
 * state-file stem, so "Running on … via <hostname>" in the job log names the file to look at. `shell` is `bash`:
 * the task runs every script with bash (sh where the image has no bash), so the runner must write bash whatever
 * config.toml's `shell` says.
 *
 * `warnings` (unknown keys, say) go to stderr, which gitlab-runner shows in the job log; stdout stays the JSON.
 * Only this stage prints them, once per job, not every stage.
 */
export function configStage(ctx: StageContext, warnings: readonly ConfigIssue[] = []): ConfigOutput {
  if (warnings.length > 0) ctx.stderr.write(`${formatIssues(warnings)}\n`);
  const output: ConfigOutput = {
    driver: { name: DRIVER_NAME, version: driverVersion() },
    hostname: stateStem(ctx.env.runnerShortToken, ctx.env.jobId),
    // Every job has its own task, so concurrent jobs never share a builds directory.
    builds_dir_is_shared: false,
    shell: 'bash',
    ...nativeClientEnvironment(ctx),
  };
  ctx.stdout.write(`${JSON.stringify(output)}\n`);
  return output;
}

/**
 * What the native run client (`native/run-client.c`) needs to run a stage without Node: gitlab-runner sets a config
 * answer's `job_env` in the environment of every later stage of the job ("job_env", in
 * https://docs.gitlab.com/runner/executors/custom/#config), and a job's own variables reach the driver only as
 * `CUSTOM_ENV_*`, so no job can change these. The socket is where prepare will put the job's multiplexer (when it
 * fits beside the state file; else the client goes to Node, which reads the state), and the fallback is this very
 * driver. Nothing without a multiplexer, or without the driver's script (a test calling the stage).
 */
function nativeClientEnvironment(ctx: StageContext): Pick<ConfigOutput, 'job_env'> {
  const socket = muxSocketBesideState(jobStatePath(ctx));
  if (!ctx.config.ssh.multiplex || ctx.driverEntry === undefined || socket === undefined) return {};
  return {
    job_env: {
      [NATIVE_CLIENT_ENV.socket]: socket,
      [NATIVE_CLIENT_ENV.node]: process.execPath,
      [NATIVE_CLIENT_ENV.driverScript]: ctx.driverEntry,
    },
  };
}
