import { mkdirSync, statSync } from 'node:fs';
import { SystemFailure } from '../errors.js';

/** This process's user id; `undefined` where there is none (Windows): the checks need one. */
export function currentUid(): number | undefined {
  return process.getuid?.();
}

/** `0o2777` as people write it: `2777`. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Checks that a state directory can be trusted with the jobs' private keys: a directory, owned by this user, that
 * nobody else may write (whoever can write it could plant a state file naming any task, or swap one for a link).
 *
 * @returns false when it does not exist (no job wrote anything there yet)
 * @throws SystemFailure naming the directory, its owner and mode, and the fix
 */
export function trustStateDirectory(directory: string): boolean {
  let stat;
  try {
    stat = statSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new SystemFailure(`cannot use the job state directory ${directory}: ${(error as Error).message}`, { cause: error });
  }
  const uid = currentUid();
  const problem = !stat.isDirectory()
    ? 'is not a directory'
    : uid !== undefined && stat.uid !== uid
      ? `belongs to uid ${stat.uid}, not to this user (uid ${uid})`
      : (stat.mode & 0o022) !== 0
        ? 'is writable by group or others'
        : undefined;
  if (problem === undefined) return true;
  throw new SystemFailure(
    `refusing the job state directory ${directory} (owner uid ${stat.uid}, mode ${octalMode(stat.mode)}): it ${problem}. ` +
      'It holds the jobs\' private keys, so only the runner\'s user may write it. ' +
      `Fix: chown ${uid ?? '<runner user>'} ${directory} && chmod 700 ${directory}, or point [TaskMetadata] Directory at a folder of its own`,
  );
}

/** Creates a state directory (0700, parents too) unless it exists, then {@link trustStateDirectory | checks} it. */
export function ensureStateDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  trustStateDirectory(directory);
}
