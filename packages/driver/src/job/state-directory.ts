import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
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
 * Checks that a state directory can be trusted with the jobs' private keys: a directory (not a symbolic link to one),
 * owned by this user, that nobody else may write (whoever can write it could plant a state file naming any task, or swap one for a link).
 *
 * @returns false when it does not exist (no job wrote anything there yet)
 * @throws SystemFailure naming the directory, its owner and mode, and the fix
 */
export function trustStateDirectory(directory: string): boolean {
  let stat;
  try {
    // lstat: the checks below must be about the directory itself, not whatever a link points at today.
    stat = lstatSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new SystemFailure(`cannot use the job state directory ${directory}: ${(error as Error).message}`, { cause: error });
  }
  if (stat.isSymbolicLink()) refuseLink(directory);
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

/**
 * A link is refused: whoever may change it (or a folder on the way to its target) could swap the jobs' keys and
 * states for their own, and the owner and mode checks would only ever see the target of the moment.
 */
function refuseLink(directory: string): never {
  let target = 'its target';
  try {
    target = readlinkSync(directory);
  } catch {
    // removed meanwhile: the message still says what to fix
  }
  throw new SystemFailure(
    `refusing the job state directory ${directory}: it is a symbolic link (to ${target}). It holds the jobs' private keys, ` +
      'so it must be a real folder of the runner\'s user. Fix: point [TaskMetadata] Directory at the folder itself ' +
      '(a path without symbolic links at its end), owned by the runner\'s user with mode 700',
  );
}

/** Creates a state directory (0700, parents too) unless it exists, then {@link trustStateDirectory | checks} it. */
export function ensureStateDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  trustStateDirectory(directory);
}
