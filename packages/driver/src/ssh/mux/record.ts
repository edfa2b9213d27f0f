/** Where a job's SSH multiplexer process runs; the job's state file keeps it for the later stages. */
export interface MuxRecord {
  readonly pid: number;
  /** Its Unix socket. */
  readonly socket: string;
}

/** What the multiplexer process reads from its job's state file to reach the task. */
export interface MuxTaskState {
  /** The task's address; absent until prepare saw the task running. */
  readonly address?: string;
  readonly port: number;
  readonly username: string;
  /** The per-job private key, OpenSSH format. */
  readonly privateKey: string;
  /** The host key pinned at first contact; the multiplexer connects only once it is known. */
  readonly hostKey?: string;
}

/** Reads the job's state file; `undefined` when it is gone or unusable. */
export type ReadMuxTaskState = (statePath: string) => MuxTaskState | undefined;
