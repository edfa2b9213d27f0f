import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_STEM_PATTERN, STATE_TEMP_FILE_PATTERN } from './state.js';

/** No live writer keeps a temporary state file longer than this (it writes, flushes and renames it at once). */
export const TEMP_FILE_MAX_AGE_MS = 10 * 60 * 1000;

/** Options of {@link sweepStateDirectory}. */
export interface SweepOptions {
  readonly now: number;
  /** Say what would go, remove nothing. */
  readonly dryRun: boolean;
}

/**
 * Removes what crashed jobs left in a (trusted) state directory besides their states: temporary state files older
 * than {@link TEMP_FILE_MAX_AGE_MS} (a writer that crashed between create and rename; they may hold a private key),
 * and multiplexer sockets whose state file is gone. Nothing else is touched.
 *
 * @returns the paths removed (or, in a dry run, that would be)
 */
export function sweepStateDirectory(directory: string, options: SweepOptions): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (isLeftover(directory, name, path, options.now)) {
      if (!options.dryRun) rmSync(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}

function isLeftover(directory: string, name: string, path: string, now: number): boolean {
  if (STATE_TEMP_FILE_PATTERN.test(name)) {
    try {
      return now - lstatSync(path).mtimeMs > TEMP_FILE_MAX_AGE_MS;
    } catch {
      return false; // renamed or removed meanwhile
    }
  }
  const stem = name.endsWith('.sock') ? name.slice(0, -'.sock'.length) : undefined;
  return stem !== undefined && STATE_STEM_PATTERN.test(stem) && !existsSync(join(directory, `${stem}.json`));
}
