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

/** Where and how a run stage executes its script: the target, the remote command, and whether it is the build container. */
export interface StageExecution {
  readonly target: TransportTarget | undefined;
  readonly command: string;
  /** The build container (the job agent): no multiplexer, the detected shell. */
  readonly inBuildContainer: boolean;
}

/**
 * A user stage of a job with an image runs in the build container, through the job agent (its port, login and pinned
 * host key, the job's key), with bash where the image has it, else sh; every other stage as before: the helper, with
 * `bash -s`.
 */
export function stageExecution(state: JobState, stageName: string): StageExecution {
  const helper = sshTargetOf(state);
  if (state.build === undefined || !isUserStage(stageName) || helper === undefined) {
    return { target: helper, command: SCRIPT_COMMAND, inBuildContainer: false };
  }
  const { port, username, hostKey } = state.build;
  return { target: { ...helper, port, username, hostKey }, command: detectShellCommand(), inBuildContainer: true };
}
