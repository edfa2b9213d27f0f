import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SystemFailure } from '../errors.js';
import { ensureStateDirectory } from '../job/state-directory.js';
import { ENTRY_STATES, type EntryState, type PoolEntry, type StoredEntry, taskIdOf } from './entry.js';

/** `<deadline>.<poolKey>.<configHash>.<taskId>.json`: what a claimer needs to choose, without reading the file. */
const READY_NAME = /^(\d{1,12})\.([0-9a-f]{16})\.([0-9a-f]{16})\.([A-Za-z0-9-]{1,64})\.json$/;
const ENTRY_NAME = /^[A-Za-z0-9.-]{1,200}\.json$/;
/** A job key in a claimed entry's name: the job's state-file stem. */
const JOB_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** The directory of one pool's entries in one state. */
export function stateDirectory(root: string, pool: string, state: EntryState): string {
  return join(root, pool, state);
}

/** Creates (0700) and checks the pool root, the pool's directory and its state subdirectories. */
export function ensurePoolDirectory(root: string, pool: string): void {
  ensureStateDirectory(root);
  ensureStateDirectory(join(root, pool));
  for (const state of ENTRY_STATES) ensureStateDirectory(stateDirectory(root, pool, state));
}

/** Whether the pool root exists at all (a lost directory means every pool task of this manager must go). */
export function poolRootExists(root: string): boolean {
  try {
    return lstatSync(root).isDirectory();
  } catch {
    return false;
  }
}

/** The file name of an entry in `state`. */
export function entryFileName(entry: PoolEntry, state: EntryState, jobKey?: string): string {
  const taskId = taskIdOf(entry);
  if (state === 'pending') return `${entry.fillId}.json`;
  if (taskId === undefined) throw new SystemFailure(`pool entry ${entry.fillId} has no task yet, so it can only be pending`);
  if (state === 'ready') return `${entry.idleDeadline}.${entry.poolKey}.${entry.configHash}.${taskId}.json`;
  if (state === 'claimed') return `${taskId}.${jobKey ?? 'unknown'}.json`;
  return `${taskId}.json`;
}

/**
 * Writes an entry into `state` atomically: a 0600 temporary file in the pool's directory (never one a claimer
 * lists), flushed, then renamed into place. @returns the entry's path
 */
export function writeEntry(root: string, entry: PoolEntry, state: EntryState): string {
  const target = join(stateDirectory(root, entry.pool, state), entryFileName(entry, state));
  const tmp = join(root, entry.pool, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    return target;
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new SystemFailure(`cannot write the pool entry ${target}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads one entry file. @throws SystemFailure when it is not a pool entry */
export function readEntry(path: string): PoolEntry {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<PoolEntry>;
  if (parsed.version !== 1 || typeof parsed.pool !== 'string' || typeof parsed.fillId !== 'string' || typeof parsed.privateKey !== 'string') {
    throw new SystemFailure(`${path} is not a pool entry`);
  }
  return parsed as PoolEntry;
}

/** Every readable entry of a pool (unreadable ones are removed: they name nothing usable, and gc stops their tasks). */
export function listEntries(root: string, pool: string): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (const state of ENTRY_STATES) {
    const dir = stateDirectory(root, pool, state);
    for (const name of safeReaddir(dir)) {
      if (!ENTRY_NAME.test(name)) continue;
      const path = join(dir, name);
      try {
        out.push({ entry: readEntry(path), state, path });
      } catch {
        rmSync(path, { force: true });
      }
    }
  }
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Moves an entry to another state with one atomic rename. @returns the new path, or undefined when another process moved it first */
export function moveEntry(from: StoredEntry, to: EntryState, jobKey?: string): string | undefined {
  const target = join(stateDirectory(rootOf(from.path), from.entry.pool, to), entryFileName(from.entry, to, jobKey));
  try {
    renameSync(from.path, target);
    return target;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** `<root>/<pool>/<state>/<file>` → `<root>`. */
function rootOf(path: string): string {
  return join(path, '..', '..', '..');
}

/** What a job looks for in the pool. */
export interface ClaimRequest {
  /** The pool state directory (`[PoolSettings] Directory`). */
  readonly root: string;
  /**
   * The configured `[[Pool]]` names: only their folders are searched. A removed pool's folder stays until its keeper
   * has stopped its tasks, which a claim must not race.
   */
  readonly pools: readonly string[];
  readonly poolKey: string;
  readonly configHash: string;
  /** The claiming job's state-file stem (`stateStem`): names the claimed entry. */
  readonly jobKey: string;
  /** Entries whose idle deadline is this close are left alone (`[PoolSettings] ClaimMargin`). */
  readonly claimMarginSeconds: number;
  readonly nowMs: number;
}

/**
 * Takes the ready entry of `poolKey` and `configHash` that expires first but not within the claim margin, with one
 * atomic rename into `claimed/`: of any number of claimers (processes) racing for one entry exactly one wins, the
 * others go on to the next entry or get `undefined`. No AWS call, no lock.
 */
export function claim(request: ClaimRequest): StoredEntry | undefined {
  if (!JOB_KEY.test(request.jobKey)) throw new SystemFailure(`invalid job key ${JSON.stringify(request.jobKey)} for a pool claim`);
  for (const candidate of candidates(request)) {
    const claimedPath = join(candidate.dir, '..', 'claimed', `${candidate.taskId}.${request.jobKey}.json`);
    try {
      renameSync(join(candidate.dir, candidate.name), claimedPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    try {
      return { entry: readEntry(claimedPath), state: 'claimed', path: claimedPath };
    } catch (error) {
      throw new DamagedClaim(claimedPath, error);
    }
  }
  return undefined;
}

/** The entry {@link claim} renamed into `claimed/` cannot be read (damaged JSON, not a pool entry). */
export class DamagedClaim extends SystemFailure {
  constructor(readonly path: string, cause: unknown) {
    super(`the claimed pool entry ${path} is damaged: ${(cause as Error).message}`, { cause });
    this.name = 'DamagedClaim';
  }
}

interface Candidate {
  readonly dir: string;
  readonly name: string;
  readonly deadline: number;
  readonly taskId: string;
}

/** The configured pools' ready entries that fit the request, the soonest to expire first. */
function candidates(request: ClaimRequest): Candidate[] {
  const earliest = request.nowMs / 1000 + request.claimMarginSeconds;
  const found: Candidate[] = [];
  for (const pool of request.pools) {
    const dir = stateDirectory(request.root, pool, 'ready');
    for (const name of safeReaddir(dir)) {
      const match = READY_NAME.exec(name);
      if (match === null || match[2] !== request.poolKey || match[3] !== request.configHash) continue;
      const deadline = Number(match[1]);
      if (deadline > earliest) found.push({ dir, name, deadline, taskId: match[4]! });
    }
  }
  return found.sort((a, b) => a.deadline - b.deadline);
}

/** Removes an entry's file (its task is stopped or never existed). */
export function removeEntry(stored: StoredEntry): void {
  rmSync(stored.path, { force: true });
}
