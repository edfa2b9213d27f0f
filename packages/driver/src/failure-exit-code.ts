import { writeFileSync } from 'node:fs';
import { BuildFailure, SystemFailure, messageOf } from './errors.js';
import type { JobEnvironment } from './job/environment.js';
import type { Logger } from './log.js';

/** The runner's two exit codes, from `$BUILD_FAILURE_EXIT_CODE` and `$SYSTEM_FAILURE_EXIT_CODE`. */
export interface RunnerExitCodes {
  /** The job's script failed. */
  readonly build: number;
  /** Anything else failed (the runner retries prepare on it). */
  readonly system: number;
}

/** What a failed stage or gc reports, and where. */
export interface FailedCommand {
  readonly codes: RunnerExitCodes;
  /** The exit code of every failure that is not the script's own: `codes.system` for a stage, 1 for gc. */
  readonly otherFailureCode: number;
  /** The command's cancel signal: an `AbortError` thrown after it fired is the cancel's doing. */
  readonly signal: AbortSignal;
  /**
   * The job's environment, which says where the script's exit code goes.
   * @default - not read yet: no script has run, so no failure is the script's
   */
  readonly env?: JobEnvironment;
  /**
   * The command's log.
   * @default - not open yet: the reason goes to stderr only
   */
  readonly log?: Logger;
  /** Writes one line for the person reading the job log (stderr). */
  readonly say: (text: string) => void;
}

/**
 * Classifies what a stage or gc threw and returns the process exit code: the script's failure is the runner's build
 * failure (with the script's own code in `$BUILD_EXIT_CODE_FILE`), anything else `otherFailureCode`, said on stderr
 * (prefixed `internal error:` when it is not a {@link SystemFailure}, i.e. a bug).
 */
export function failureExitCode(caught: unknown, failed: FailedCommand): number {
  // Whatever a cancel interrupted (an SDK call answers with its own AbortError), the stage failed because of the
  // cancel, and says so.
  const error = failed.signal.aborted && (caught as Error | undefined)?.name === 'AbortError' ? failed.signal.reason : caught;
  if (error instanceof BuildFailure && failed.env !== undefined) {
    failed.log?.info(error.message);
    return reportBuildFailure(error, failed.env, failed.codes, failed.say);
  }
  const message = messageOf(error);
  failed.log?.error(message, { error: error instanceof Error ? error.name : typeof error });
  // Whatever the log destination, the person reading the job log sees why the stage failed.
  failed.say(error instanceof SystemFailure ? message : `internal error: ${message}`);
  if (!(error instanceof SystemFailure) && error instanceof Error && error.stack !== undefined) {
    failed.log?.debug(error.stack);
  }
  return failed.otherFailureCode;
}

function reportBuildFailure(error: BuildFailure, env: JobEnvironment, codes: RunnerExitCodes, say: (text: string) => void): number {
  if (env.buildExitCodeFile !== undefined) {
    try {
      // The runner parses the first line as the job's exit code (allow_failure: exit_codes relies on it).
      writeFileSync(env.buildExitCodeFile, `${error.exitCode}\n`);
    } catch (writeError) {
      say(`cannot write BUILD_EXIT_CODE_FILE ${env.buildExitCodeFile}: ${messageOf(writeError)}`);
      return codes.system;
    }
  }
  return codes.build;
}
