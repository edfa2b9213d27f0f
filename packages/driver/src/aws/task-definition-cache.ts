import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The driver's local record of the task definitions it derived: hash → family and ARN, and when this runner last
 * used each (gc's evidence). A cache only: a missing or damaged file costs one DescribeTaskDefinition, never a wrong
 * answer, since a hit is keyed by the full sha256 of the definition.
 */

/** One derived task definition as this runner knows it. */
export interface CachedTaskDefinition {
  readonly family: string;
  readonly arn: string;
  /** ISO 8601: the last job of this runner that used it. */
  readonly lastUsedAt: string;
  /** ISO 8601: when the `gitlab-fargate:last-used` tag was last written (at most daily). */
  readonly lastTaggedAt?: string;
}

interface CacheDocument {
  readonly version: 1;
  readonly entries: Readonly<Record<string, CachedTaskDefinition>>;
}

const EMPTY: CacheDocument = { version: 1, entries: {} };

/** The cache's entries; empty when the file is missing or not one this driver wrote. */
export function readTaskDefinitionCache(file: string): Readonly<Record<string, CachedTaskDefinition>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return EMPTY.entries;
  }
  try {
    const document = JSON.parse(text) as Partial<CacheDocument>;
    if (document.version !== 1 || typeof document.entries !== 'object' || document.entries === null) return EMPTY.entries;
    return Object.fromEntries(
      Object.entries(document.entries).filter(
        ([hash, entry]) => /^[0-9a-f]{64}$/.test(hash) && typeof entry?.arn === 'string' && typeof entry.family === 'string' && typeof entry.lastUsedAt === 'string',
      ),
    );
  } catch {
    return EMPTY.entries;
  }
}

/**
 * Applies `change` to the cache and writes it atomically (a `.<12 hex>.tmp` file, mode 0600, flushed, renamed: the
 * state directory's sweep removes one a crash leaves). Two stages writing at once may lose one's entry: a later
 * DescribeTaskDefinition finds it again.
 */
export function updateTaskDefinitionCache(
  file: string,
  change: (entries: Record<string, CachedTaskDefinition>) => void,
): void {
  const entries = { ...readTaskDefinitionCache(file) };
  change(entries);
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: 1, entries } satisfies CacheDocument, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** A held lock; `release` removes its file. */
export interface HeldLock {
  release(): void;
}

/**
 * Takes the lock file `path` (created exclusively, mode 0600), or returns undefined when another process holds it.
 * A lock older than `staleMs` (its holder crashed) is broken first.
 */
export function tryLock(path: string, staleMs: number, now: number): HeldLock | undefined {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let age: number;
      try {
        age = now - statSync(path).mtimeMs;
      } catch {
        continue; // released between our open and stat: try again
      }
      if (age <= staleMs) return undefined;
      rmSync(path, { force: true });
    }
  }
  return undefined;
}
