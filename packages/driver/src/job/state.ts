import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SystemFailure } from '../errors.js';

/**
 * What one stage process leaves for the next: the only thing the stages share. Holds the job's private key, hence
 * mode 0600 and removal in cleanup.
 */
export interface JobState {
  readonly version: 1;
  /** `CI_JOB_ID` of the job that owns the task. */
  readonly jobId: string;
  /** Short token of the runner that started the task. */
  readonly runnerShortToken: string;
  /** Cluster name or ARN the task runs in. */
  readonly cluster: string;
  /** AWS region of the cluster, when configured. */
  readonly region?: string;
  /** Set as soon as RunTask returns, before any waiting, so cleanup can stop the task whatever happens next. */
  readonly taskArn?: string;
  /** Address the driver connects to (private or public IP). */
  readonly address?: string;
  readonly port: number;
  readonly username: string;
  /** The per-job ed25519 private key, OpenSSH format. */
  readonly privateKey: string;
  /** The per-job public key, one authorized_keys line. */
  readonly publicKey: string;
  /** SSH host key (base64 of the key blob) seen at first contact; later stages refuse any other. */
  readonly hostKey?: string;
  /** The job's SSH multiplexer, when prepare started one: `run` stages use it instead of a connection each. */
  readonly mux?: MuxRecord;
  /** ISO time prepare started. */
  readonly createdAt: string;
  /**
   * ISO time after which no runner can still be running this job (start + job timeout + {@link STATE_GRACE_SECONDS}):
   * `gc` then treats the state as left over by a runner that died before cleanup, and stops its task. Absent when
   * the job's timeout is unknown (the state then protects its task until cleanup removes it).
   */
  readonly expiresAt?: string;
}

/** Where a job's SSH multiplexer (ssh/mux-process.ts) runs. */
export interface MuxRecord {
  readonly pid: number;
  /** Its Unix socket. */
  readonly socket: string;
}

/** Allowance beyond the job's timeout for the runner's own kill timeouts and cleanup before a state counts as stale. */
export const STATE_GRACE_SECONDS = 3600;

/**
 * File stem shared by the state file and the `hostname` reported in the config stage: the runner's short token
 * (sanitised, at most 16 characters) and a 16-hex-digit hash of token and job id. Short and bounded whatever the
 * token looks like (upstream once put whole JWT job tokens in file names and broke on the 255-byte limit).
 */
export function stateStem(runnerShortToken: string, jobId: string): string {
  const token = runnerShortToken.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 16) || 'unknown';
  const hash = createHash('sha256').update(`${runnerShortToken}\0${jobId}`).digest('hex').slice(0, 16);
  return `${token}-${hash}`;
}

/** Full path of a job's state file in `directory`. */
export function statePath(directory: string, runnerShortToken: string, jobId: string): string {
  return join(directory, `${stateStem(runnerShortToken, jobId)}.json`);
}

/**
 * Writes the state atomically: a temporary file in the same directory (mode 0600, flushed) renamed over the
 * target, so a reader never sees half a file and a crash never leaves one. Creates the directory (0700) if needed.
 */
export function writeState(path: string, state: JobState): void {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new SystemFailure(`cannot write the job state file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads a state file; `undefined` when there is none (cleanup after a failed prepare, or run twice). */
export function readState(path: string): JobState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SystemFailure(`cannot read the job state file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseState(text, path);
}

/** Parses and checks a state file's text. */
export function parseState(text: string, path: string): JobState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SystemFailure(`the job state file ${path} is not valid JSON; remove it and retry the job`);
  }
  const v = value as Partial<Record<keyof JobState, unknown>>;
  const problems: string[] = [];
  if (v.version !== 1) problems.push('version must be 1');
  for (const key of ['jobId', 'runnerShortToken', 'cluster', 'username', 'privateKey', 'publicKey', 'createdAt'] as const) {
    if (typeof v[key] !== 'string') problems.push(`${key} must be a string`);
  }
  for (const key of ['region', 'taskArn', 'address', 'hostKey'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') problems.push(`${key} must be a string`);
  }
  if (typeof v.port !== 'number' || !Number.isInteger(v.port)) problems.push('port must be an integer');
  if (v.mux !== undefined) {
    const mux = v.mux as Partial<Record<keyof MuxRecord, unknown>> | null;
    if (typeof mux?.pid !== 'number' || !Number.isInteger(mux.pid) || typeof mux.socket !== 'string') {
      problems.push('mux must be { pid: integer, socket: string }');
    }
  }
  if (problems.length > 0) {
    throw new SystemFailure(`the job state file ${path} is damaged (${problems.join(', ')}); remove it and retry the job`);
  }
  return value as JobState;
}

/** Removes a state file; no error when it is already gone. */
export function removeState(path: string): void {
  rmSync(path, { force: true });
}

/** Every readable state in a directory (for gc: which tasks a live job still owns). */
export function listStates(directory: string): JobState[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const states: JobState[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      const state = readState(join(directory, name));
      if (state !== undefined) states.push(state);
    } catch {
      // A damaged or foreign file is not a live job; gc reports tasks, not files.
    }
  }
  return states;
}
