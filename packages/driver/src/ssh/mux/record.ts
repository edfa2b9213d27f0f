import type { TaskSshState } from '../target.js';

/** Where a job's SSH multiplexer process runs; the job's state file keeps it for the later stages. */
export interface MuxRecord {
  readonly pid: number;
  /** Its Unix socket. */
  readonly socket: string;
}

/** Reads the job's state file; `undefined` when it is gone or unusable. */
export type ReadMuxTaskState = (statePath: string) => TaskSshState | undefined;
