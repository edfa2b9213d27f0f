/**
 * The driver's error vocabulary. The CLI is the one place that turns these into exit codes:
 * a {@link BuildFailure} becomes `$BUILD_FAILURE_EXIT_CODE`, everything else `$SYSTEM_FAILURE_EXIT_CODE`.
 */

/** A failure of the infrastructure (AWS, SSH, configuration, the driver itself): never the job author's fault. */
export class SystemFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SystemFailure';
  }
}

/** The job's own script exited non-zero: the runner reports a script failure with this exit code. */
export class BuildFailure extends Error {
  /** The script's exit code, written to `$BUILD_EXIT_CODE_FILE`. */
  public readonly exitCode: number;

  constructor(exitCode: number, message = `the script exited with code ${exitCode}`) {
    super(message);
    this.name = 'BuildFailure';
    this.exitCode = exitCode;
  }
}

/** The command line itself is wrong: reported with a pointer to `--help`, before any side effect. */
export class UsageError extends SystemFailure {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A per-job override asked for more than the driver configuration allows. */
export class OverrideRefused extends SystemFailure {
  /** The CI variable, as the job author wrote it (without `CUSTOM_ENV_`). */
  public readonly variable: string;

  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'OverrideRefused';
    this.variable = variable;
  }
}

/** The stage was interrupted by SIGTERM/SIGINT (job cancelled or timed out). Never a success. */
export class Cancelled extends SystemFailure {
  constructor(signal: string) {
    super(`cancelled by ${signal} (the job was cancelled or timed out)`);
    this.name = 'Cancelled';
  }
}

/** Message of any thrown value, for logs and error text. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
