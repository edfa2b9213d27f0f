import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SystemFailure } from '../errors.js';

/**
 * The file naming the keeper that owns a pool directory. One keeper per directory: a second would take the first's
 * pending entries for a dead keeper's and stop their tasks.
 */
export const KEEPER_LOCK_FILE = '.keeper.pid';

/**
 * Takes the pool directory for this process: creates `<root>/.keeper.pid` exclusively, or takes it over when the
 * process it names is gone (a keeper killed by SIGKILL). @returns a release function
 * @throws SystemFailure when a live keeper holds it
 */
export function lockPoolDirectory(root: string, pid = process.pid): () => void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const path = join(root, KEEPER_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new SystemFailure(`another pool keeper (pid ${holder}) keeps ${root}: run one keeper per pool directory, or stop that one first`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new SystemFailure(`could not take ${path}: another keeper keeps taking it`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
