import type { JobState } from '../job/state.js';
import { SCRIPT_COMMAND } from '../ssh/exec.js';
import { sshTargetOf } from '../ssh/target.js';
import type { TransportTarget } from '../ssh/transport.js';
import { detectShellCommand } from './shell-detect.js';

/**
 * The stages gitlab-runner runs in the build container when a job has an image: the job's own scripts. The others
 * (`prepare_script`, `get_sources`, caches, artifacts, `cleanup_file_variables`) need the runner's tools and run in
 * the helper, as the Docker and Kubernetes executors split them between the build and helper containers
 * (https://docs.gitlab.com/runner/executors/custom/#run: `build_script`, `after_script` and `step_*` are the job's).
 */
export function isUserStage(stageName: string): boolean {
  return stageName === 'build_script' || stageName === 'after_script' || stageName.startsWith('step_');
}

/**
 * The helper's command in a job with a build container: `bash -s` under `umask 0000`, so that what the runner's
 * stages create in the shared builds volume (the project folder, its `.tmp` folder, caches, artifacts) can be written
 * by a job user that is not root (`USER 1000`), as gitlab-runner's Docker executor does unless
 * `FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR` is set (https://docs.gitlab.com/runner/configuration/feature-flags/).
 * `exec` keeps the process id the SSH connection recorded.
 */
export const HELPER_COMMAND_WITH_BUILD_CONTAINER = `bash -c 'umask 0000 && exec ${SCRIPT_COMMAND}'`;

/** Where and how a run stage executes its script: the target, the remote command, and whether it is the build container. */
export interface StageExecution {
  readonly target: TransportTarget | undefined;
  readonly command: string;
  /** The build container (the job agent): no multiplexer, the detected shell. */
  readonly inBuildContainer: boolean;
}

/**
 * A user stage of a job with an image runs in the build container, through the job agent (its port, login and pinned
 * host key, the job's key), with bash where the image has it, else sh; every other stage in the helper, with `bash -s`
 * (under `umask 0000` when there is a build container).
 */
export function stageExecution(state: JobState, stageName: string): StageExecution {
  const helper = sshTargetOf(state);
  if (state.build === undefined || helper === undefined) return { target: helper, command: SCRIPT_COMMAND, inBuildContainer: false };
  if (!isUserStage(stageName)) return { target: helper, command: HELPER_COMMAND_WITH_BUILD_CONTAINER, inBuildContainer: false };
  const { port, username, hostKey } = state.build;
  return { target: { ...helper, port, username, hostKey }, command: detectShellCommand(), inBuildContainer: true };
}
