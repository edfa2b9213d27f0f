import type { TransportTarget } from './transport.js';

/**
 * How a job's state file describes its task's sshd. `job/` owns the file's format; this is what the SSH side needs
 * of it, so that `ssh/` does not depend on `job/`.
 */
export interface TaskSshState {
  /** The task's address; absent until prepare saw the task running. */
  readonly address?: string;
  readonly port: number;
  readonly username: string;
  /** The per-job private key, OpenSSH format. */
  readonly privateKey: string;
  /** The host key pinned at first contact; nobody connects before it is known. */
  readonly hostKey?: string;
}

/** Where to reach the task; `undefined` until prepare recorded its address and pinned its host key. */
export function sshTargetOf(state: TaskSshState): TransportTarget | undefined {
  if (state.address === undefined || state.hostKey === undefined) return undefined;
  return { host: state.address, port: state.port, username: state.username, privateKey: state.privateKey, hostKey: state.hostKey };
}
