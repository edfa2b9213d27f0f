import { gitlabEnvFileName, rmFile, userCommands, type ExportMode } from './bash-script.js';
import type { JobSpec, SavedFiles } from './job.js';

/** One call of `run_exec`: the stage name the driver sees and what its script does. */
export interface StagePlan {
  readonly name: string;
  /** Heading in the job log, as gitlab-runner prints it (common/build.go `GetStageDescription`). */
  readonly title: string;
  readonly body: readonly string[];
  /** Run the body inside `CI_PROJECT_DIR`. */
  readonly inProjectDir: boolean;
  /**
   * How the stage exports the job's variables.
   * @default 'all'
   */
  readonly exports?: ExportMode;
}

/*
 * Which stages gitlab-runner calls and when, from common/build.go (`executeScript`) and shells/abstract.go
 * (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/shells/abstract.go): a stage whose script would do
 * nothing returns `ErrSkipBuildStage` and `run_exec` is not called for it. prepare_script, get_sources, the
 * script and cleanup_file_variables always run; restore_cache and archive_cache* only with a cache,
 * download_artifacts only with dependencies, upload_artifacts_* only with artifacts for that result, and
 * after_script only when the job has one. A plain job is therefore 4 calls, 5 with after_script.
 *
 * The harness has no GitLab server: where gitlab-runner would fetch sources, caches or artifacts, these stages
 * prepare the folders and say what a real runner would do.
 */

/**
 * `prepare_script`: always called, first, under the prepare timeout. It exports nothing and removes what an
 * earlier job may have left in the temporary folder.
 */
export function prepareScriptStage(temporaryPath: string): StagePlan {
  return {
    name: 'prepare_script',
    title: 'Preparing environment',
    body: [
      'echo "Running on $(hostname) via gitlab-fargate runner-harness..."',
      rmFile(`${temporaryPath}/${gitlabEnvFileName}`),
      rmFile(`${temporaryPath}/masking.db`),
    ],
    inProjectDir: false,
    exports: 'none',
  };
}

/** `get_sources`: always called. */
export function getSourcesStage(): StagePlan {
  return {
    name: 'get_sources',
    title: 'Getting source from Git repository',
    body: [
      'mkdir -p "$CI_PROJECT_DIR"',
      'echo "Created fresh repository folder $CI_PROJECT_DIR (the harness has no GitLab server: a runner would fetch $CI_PROJECT_URL here)"',
    ],
    inProjectDir: false,
  };
}

/** `restore_cache`: only for a job with a cache. */
export function restoreCacheStage(job: JobSpec): StagePlan | undefined {
  if (!job.cache) return undefined;
  return { name: 'restore_cache', title: 'Restoring cache', body: [`echo ${quoted(`No cache to restore for ${job.cache.paths.join(' ')}`)}`], inProjectDir: true };
}

/** `download_artifacts`: only for a job that depends on other jobs' artifacts. */
export function downloadArtifactsStage(job: JobSpec): StagePlan | undefined {
  if (!job.dependencies?.length) return undefined;
  return {
    name: 'download_artifacts',
    title: 'Downloading artifacts',
    body: [`echo ${quoted(`No artifacts to download from ${job.dependencies.join(', ')}`)}`],
    inProjectDir: true,
  };
}

/** The user's script; the custom executor names the `step_script` stage `build_script` for the driver. */
export function buildScriptStage(job: JobSpec): StagePlan {
  return { name: 'build_script', title: 'Executing "step_script" stage of the job script', body: userCommands(job.script), inProjectDir: true };
}

/** `after_script`: only when the job has one; it runs in its own shell and sees `CI_JOB_STATUS`. */
export function afterScriptStage(job: JobSpec): StagePlan | undefined {
  if (job.afterScript.length === 0) return undefined;
  return { name: 'after_script', title: 'Running after_script', body: userCommands(job.afterScript), inProjectDir: true };
}

/** `archive_cache` or `archive_cache_on_failure`: only when the cache's `when` matches the result. */
export function archiveCacheStage(job: JobSpec, succeeded: boolean): StagePlan | undefined {
  if (!job.cache || !appliesTo(job.cache, succeeded)) return undefined;
  return {
    name: succeeded ? 'archive_cache' : 'archive_cache_on_failure',
    title: succeeded ? 'Saving cache for successful job' : 'Saving cache for failed job',
    body: [`echo ${quoted(`No cache to save for ${job.cache.paths.join(' ')}`)}`],
    inProjectDir: true,
  };
}

/** `upload_artifacts_on_success` or `_on_failure`: only when the artifacts' `when` matches the result. */
export function uploadArtifactsStage(job: JobSpec, succeeded: boolean): StagePlan | undefined {
  if (!job.artifacts || !appliesTo(job.artifacts, succeeded)) return undefined;
  return {
    name: succeeded ? 'upload_artifacts_on_success' : 'upload_artifacts_on_failure',
    title: succeeded ? 'Uploading artifacts for successful job' : 'Uploading artifacts for failed job',
    body: [`echo ${quoted(`No artifacts to upload for ${job.artifacts.paths.join(' ')}`)}`],
    inProjectDir: true,
  };
}

/**
 * `cleanup_file_variables`: always called last, whatever happened before (not after a job timeout). It exports
 * file variables as paths only and removes their files and `GITLAB_ENV`'s.
 */
export function cleanupFileVariablesStage(temporaryPath: string, fileVariables: readonly string[]): StagePlan {
  return {
    name: 'cleanup_file_variables',
    title: 'Cleaning up project directory and file based variables',
    body: [gitlabEnvFileName, 'masking.db', ...fileVariables].map((name) => rmFile(`${temporaryPath}/${name}`)),
    inProjectDir: false,
    exports: 'paths-only',
  };
}

function appliesTo(files: SavedFiles, succeeded: boolean): boolean {
  return files.when === 'always' || (files.when === 'on_success') === succeeded;
}

function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
