import { userCommands } from './bash-script.js';
import type { JobSpec } from './job.js';

/** One call of `run_exec`: the stage name the driver sees and what its script does. */
export interface StagePlan {
  readonly name: string;
  /** Heading in the job log, as gitlab-runner prints it. */
  readonly title: string;
  readonly body: readonly string[];
  /** Run the body inside `CI_PROJECT_DIR`. */
  readonly inProjectDir: boolean;
}

/**
 * The stages before and including the user's script, in gitlab-runner's order (common/build.go). The harness
 * has no GitLab server: where gitlab-runner would fetch sources, caches or artifacts, these stages prepare the
 * folders and say what a real runner would do, so every stage name still reaches the driver.
 */
export function leadingStages(job: JobSpec): StagePlan[] {
  return [
    {
      name: 'prepare_script',
      title: 'Preparing environment',
      body: ['echo "Running on $(hostname) via gitlab-fargate runner-harness..."'],
      inProjectDir: false,
    },
    {
      name: 'get_sources',
      title: 'Getting source from Git repository',
      body: [
        'mkdir -p "$CI_PROJECT_DIR"',
        'echo "Created fresh repository folder $CI_PROJECT_DIR (the harness has no GitLab server: a runner would fetch $CI_PROJECT_URL here)"',
      ],
      inProjectDir: false,
    },
    { name: 'restore_cache', title: 'Restoring cache', body: ['echo "No cache to restore"'], inProjectDir: true },
    { name: 'download_artifacts', title: 'Downloading artifacts', body: ['echo "No artifacts to download"'], inProjectDir: true },
    { name: 'build_script', title: 'Executing "step_script" stage of the job script', body: userCommands(job.script), inProjectDir: true },
  ];
}

/** `after_script`: always runs, in its own shell, and sees `CI_JOB_STATUS`. */
export function afterScriptStage(job: JobSpec): StagePlan | undefined {
  if (job.afterScript.length === 0) return undefined;
  return { name: 'after_script', title: 'Running after_script', body: userCommands(job.afterScript), inProjectDir: true };
}

/** The stages after the script: which cache and artifact stages run depends on the script's result. */
export function trailingStages(succeeded: boolean): StagePlan[] {
  return [
    {
      name: succeeded ? 'archive_cache' : 'archive_cache_on_failure',
      title: 'Saving cache',
      body: ['echo "No cache to save"'],
      inProjectDir: true,
    },
    {
      name: succeeded ? 'upload_artifacts_on_success' : 'upload_artifacts_on_failure',
      title: 'Uploading artifacts',
      body: ['echo "No artifacts to upload"'],
      inProjectDir: true,
    },
    {
      name: 'cleanup_file_variables',
      title: 'Cleaning up project directory and file based variables',
      body: ['rm -rf "${CI_PROJECT_DIR}.tmp"'],
      inProjectDir: false,
    },
  ];
}
