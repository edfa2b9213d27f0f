import { readFileSync } from 'node:fs';
import type { DriverCallResult } from './driver-process.js';
import { buildFailureExitCode, systemFailureExitCode } from './job-environment.js';

/** How gitlab-runner reads one driver call: success, the script's failure, or a failure of the system. */
export type CallVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'script_failure'; readonly exitCode: number; readonly reason: string }
  | { readonly kind: 'system_failure'; readonly reason: string };

/**
 * Go's `strconv.Atoi`: an optional sign and decimal digits, nothing else (no spaces, no `0x`, no `1e3`), within
 * a 64-bit int. `"3 "` and `""` are not numbers.
 * @returns undefined when Go would return an error
 */
export function goAtoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return undefined;
  return Number(value);
}

/**
 * The first line of the build exit-code file as Go's `bufio.ScanLines` yields it: up to the first `\n`, one
 * trailing `\r` dropped, nothing trimmed.
 */
function firstLine(text: string): string {
  const line = text.split('\n')[0]!;
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * gitlab-runner's reading of a driver's exit, as executors/custom/command/command.go does it
 * (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/executors/custom/command/command.go, `waitForCommand`
 * and `parseBuildFailure`): it depends only on how the process ended, also after the runner stopped it.
 * - 0: success.
 * - `BUILD_FAILURE_EXIT_CODE`: a script failure whose code is the exit-code file's first line read with `Atoi`;
 *   no file means code 1; a line `Atoi` refuses is an unknown failure (a system failure).
 * - `SYSTEM_FAILURE_EXIT_CODE`: a system failure.
 * - anything else, a death by signal (Go's exit code -1) included: an unknown failure (a system failure).
 */
export function readDriverExit(result: DriverCallResult, what: string, buildExitCodeFile: string): CallVerdict {
  if (result.abandoned) return { kind: 'system_failure', reason: `${what}: failed to kill process, likely process is dormant` };
  if (result.exitCode === 0) return { kind: 'ok' };
  const status = result.exitCode === null ? `signal: ${signalName(result.signal)}` : `exit status ${result.exitCode}`;
  if (result.exitCode === buildFailureExitCode) {
    let text: string;
    try {
      text = readFileSync(buildExitCodeFile, 'utf8');
    } catch {
      return { kind: 'script_failure', exitCode: buildFailureExitCode, reason: `exit code ${buildFailureExitCode}` };
    }
    const exitCode = goAtoi(firstLine(text));
    if (exitCode === undefined) return { kind: 'system_failure', reason: unknownFailure(what, systemFailureExitCode, status) };
    return { kind: 'script_failure', exitCode, reason: `exit code ${exitCode}` };
  }
  if (result.exitCode === systemFailureExitCode) return { kind: 'system_failure', reason: `${what}: ${status}` };
  return { kind: 'system_failure', reason: unknownFailure(what, result.exitCode ?? -1, status) };
}

function unknownFailure(what: string, exitCode: number, status: string): string {
  return `${what}: unknown Custom executor executable exit code ${exitCode}; executable execution terminated with: ${status}`;
}

/** Go prints a signal by its description (`signal: killed`); the name is clearer here and close enough. */
function signalName(signal: NodeJS.Signals | null): string {
  return signal ?? 'unknown';
}
