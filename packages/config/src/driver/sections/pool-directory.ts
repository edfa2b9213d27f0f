import { join } from 'node:path';
import type { PoolDefaults, TaskMetadataSettings } from '../model.js';

/** The pool directory's name under `[TaskMetadata] Directory` when `[PoolSettings] Directory` is unset. */
export const POOL_DIRECTORY_NAME = 'pool';

/** Fills the default pool directory: `<[TaskMetadata] Directory>/pool` (left unset when neither is set: no pool then). */
export function withPoolDirectory(settings: PoolDefaults, taskMetadata: TaskMetadataSettings): PoolDefaults {
  if (settings.directory !== undefined || taskMetadata.directory === undefined) return settings;
  return { ...settings, directory: join(taskMetadata.directory, POOL_DIRECTORY_NAME) };
}
