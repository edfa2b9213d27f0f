import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * The lines prepare and its multiplexer process exchange on the process's stdout and stdin before the process is let
 * go: it says `listening PID` (or `error: WHY`) once its socket listens; prepare answers with the go line once the
 * task's address and host key are in the state file, or closes the process's stdin without it.
 */
export const LISTENING_PREFIX = 'listening ';
export const ERROR_PREFIX = 'error: ';
export const GO_LINE = 'connect';

/** The first line `input` delivers; `undefined` when it ends without one. */
export function firstLine(input: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    const lines = createInterface({ input });
    lines.once('line', (line) => {
      resolve(line); // first: close() below emits 'close' at once
      lines.close();
    });
    lines.once('close', () => resolve(undefined));
  });
}
