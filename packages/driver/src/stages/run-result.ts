import { constants } from 'node:os';
import { BuildFailure, SystemFailure } from '../errors.js';
import type { ExecResult } from '../ssh/transport.js';

/** What {@link stageFailure} needs to know about the stage besides its command's end. */
export interface StageEnd {
  readonly stageName: string;
  /** `address:port` of the sshd the command ran behind, for the "connection ended" message. */
  readonly endpoint: string;
  /**
   * Why the stage was cancelled, when it was (the stage's `Cancelled` error).
   * @default - a `SystemFailure` saying the stage was cancelled
   */
  readonly cancelReason?: unknown;
}

/**
 * What a run stage's remote command's end means for the stage: `undefined` for a success, else the error the stage
 * fails with. One home for this for both ends of the multiplexer: the `run` stage in Node and the multiplexer, which
 * records the outcome and tells the native client (`native/run-client.c`) which exit code to use.
 *
 * - cancelled: the cancel's reason (a system failure, never a success, whatever the script's status);
 * - a non-zero exit: a {@link BuildFailure} with the script's code;
 * - killed by a signal we did not send: a {@link BuildFailure} with 128 + the signal's number, as a shell reports it;
 * - no status at all: the connection ended before the script finished (a system failure).
 */
export function stageFailure(result: ExecResult, end: StageEnd): Error | undefined {
  if (result.cancelled) {
    return end.cancelReason instanceof Error ? end.cancelReason : new SystemFailure(`stage ${end.stageName} cancelled`);
  }
  if (result.exitCode === 0) return undefined;
  if (result.exitCode !== undefined) return new BuildFailure(result.exitCode);
  if (result.signal !== undefined) {
    const number = (constants.signals as Record<string, number | undefined>)[`SIG${result.signal}`] ?? 0;
    return new BuildFailure(128 + number, `the script was killed by SIG${result.signal}`);
  }
  return new SystemFailure(
    `the SSH connection to ${end.endpoint} ended before the script finished ` +
      `(the task may have stopped: Spot interruption, out of memory, or stopped by hand)`,
  );
}
