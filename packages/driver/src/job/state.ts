import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SystemFailure } from '../errors.js';
import type { JobRecord } from '../metrics/job-record.js';
import type { MuxRecord } from '../ssh/mux/record.js';
import { currentUid, ensureStateDirectory, trustStateDirectory } from './state-directory.js';

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
  /**
   * The job image's build container (`[JobImages]`), when the job named an `image:`: the job agent's SSH server on the
   * task's address, with its own pinned host key. The user stages run there; the others in the helper (`port`, above).
   */
  readonly build?: BuildContainerSsh;
  /** ISO time prepare started. */
  readonly createdAt: string;
  /**
   * ISO time after which no runner can still be running this job (start + job timeout + `STATE_GRACE_SECONDS`, see
   * `job/deadline.ts`): `gc` then treats the state as left over by a runner that died before cleanup, stops its task
   * and removes the file. Absent when the job's timeout is unknown (the state then protects its task until cleanup
   * removes it).
   */
  readonly expiresAt?: string;
  /**
   * What prepare observed about the task (ECS's timestamps, size, placement) and how the stages ended, for the job's
   * timeline, cost and metrics (`metrics/job-record.ts`). Read through `readJobRecord`, which drops what is malformed.
   */
  readonly metrics?: JobRecord;
  /**
   * Set when the task came from the warm pool (a warm start, see `stages/prepare-warm.ts`); absent for a cold start.
   * Cleanup then also removes the job's claimed pool entry; the job's metrics say `start: warm`.
   */
  readonly pool?: WarmStartRecord;
}

/** Which pool a warm start's task came from, and how long taking it took. */
export interface WarmStartRecord {
  /** `[[Pool]] Name`. */
  readonly name: string;
  /** The claim (directory rename) to the in-task lock taken, in milliseconds. */
  readonly claimMs: number;
}

/** How a job image's build container answers SSH (the job agent): same address and key as the helper. */
export interface BuildContainerSsh {
  readonly port: number;
  readonly username: string;
  /** Pinned at first contact in prepare, like {@link JobState.hostKey}. */
  readonly hostKey: string;
}

/** A state file that cannot be used (damaged, a link, not a regular file, someone else's): cleanup removes it. */
export class UnusableState extends SystemFailure {
  /** What is wrong with the file, e.g. `is a symbolic link, which the driver never follows`. */
  public readonly problem: string;

  constructor(path: string, problem: string) {
    super(`the job state file ${path} ${problem}; remove it and retry the job`);
    this.name = 'UnusableState';
    this.problem = problem;
  }
}

/** What {@link stateStem} produces, for finding a job's files (`<stem>.json`, `<stem>.sock`) in a directory. */
export const STATE_STEM_PATTERN = /^[A-Za-z0-9_-]{1,16}-[0-9a-f]{16}$/;

/**
 * The one file in the state directory that is not a job's state: `[JobImages]`' task definition cache (hash → ARN,
 * `aws/task-definition-cache.ts`), which outlives jobs; {@link listStates} and gc leave it alone.
 */
export const TASK_DEFINITION_CACHE_FILE = 'task-definitions.json';

/** Names of {@link writeState}'s temporary files: a crash between create and rename leaves one behind. */
export const STATE_TEMP_FILE_PATTERN = /^\.[0-9a-f]{12}\.tmp$/;

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
 * target, so a reader never sees half a file and a crash never leaves one (but may leave a temporary file, which
 * `gc` removes). Creates the directory (0700) if needed and refuses one that others may write.
 */
export function writeState(path: string, state: JobState): void {
  const dir = dirname(path);
  ensureStateDirectory(dir);
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

/**
 * Reads a state file; `undefined` when there is none (cleanup after a failed prepare, or run twice). Never follows a
 * symbolic link and reads only a regular file of this user, in a directory nobody else may write.
 *
 * @throws UnusableState when the file is there but cannot be used (damaged, a link, someone else's)
 * @throws SystemFailure when the directory cannot be trusted or the file cannot be read
 */
export function readState(path: string): JobState | undefined {
  if (!trustStateDirectory(dirname(path))) return undefined;
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted there must not hang the stage (it is then refused as not a regular file).
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new UnusableState(path, 'is a symbolic link, which the driver never follows');
    throw new SystemFailure(`cannot read the job state file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UnusableState(path, 'is not a regular file');
    const uid = currentUid();
    if (uid !== undefined && stat.uid !== uid) {
      throw new UnusableState(path, `belongs to uid ${stat.uid}, not to this user (uid ${uid}): the driver did not write it`);
    }
    return parseState(readFileSync(fd, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses and checks a state file's text.
 *
 * @throws UnusableState saying what is wrong
 */
export function parseState(text: string, path: string): JobState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UnusableState(path, 'is not valid JSON');
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
  if (v.build !== undefined) {
    const build = v.build as Partial<Record<keyof BuildContainerSsh, unknown>> | null;
    if (typeof build?.port !== 'number' || !Number.isInteger(build.port) || typeof build.username !== 'string' || typeof build.hostKey !== 'string') {
      problems.push('build must be { port: integer, username: string, hostKey: string }');
    }
  }
  if (v.pool !== undefined) {
    const pool = v.pool as Partial<Record<keyof WarmStartRecord, unknown>> | null;
    if (typeof pool?.name !== 'string' || typeof pool.claimMs !== 'number' || !(pool.claimMs >= 0)) problems.push('pool must be { name: string, claimMs: number >= 0 }');
  }
  if (problems.length > 0) {
    throw new UnusableState(path, `is damaged (${problems.join(', ')})`);
  }
  return value as JobState;
}

/** Removes a state file; no error when it is already gone. */
export function removeState(path: string): void {
  rmSync(path, { force: true });
}

/** A state file found by {@link listStates}. */
export interface StateEntry {
  readonly path: string;
  readonly state: JobState;
}

/**
 * Every usable state in a directory (for gc: which tasks live jobs still own, and which states are stale). Files
 * that cannot be used are passed to `onUnusable` and otherwise skipped: they are not live jobs.
 *
 * @throws SystemFailure when the directory cannot be trusted
 */
export function listStates(directory: string, onUnusable: (path: string, error: UnusableState) => void = () => {}): StateEntry[] {
  if (!trustStateDirectory(directory)) return [];
  const entries: StateEntry[] = [];
  for (const name of readdirSync(directory)) {
    if (!name.endsWith('.json') || name.startsWith('.') || name === TASK_DEFINITION_CACHE_FILE) continue;
    const path = join(directory, name);
    try {
      const state = readState(path);
      if (state !== undefined) entries.push({ path, state });
    } catch (error) {
      if (!(error instanceof UnusableState)) throw error;
      onUnusable(path, error);
    }
  }
  return entries;
}
