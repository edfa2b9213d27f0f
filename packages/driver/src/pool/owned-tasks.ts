import { readdirSync } from 'node:fs';
import type { DriverConfig } from '@gitlab-fargate/config';
import { listEntries, poolRootExists } from './directory.js';

/**
 * The tasks the warm-pool directory accounts for (pending, ready, claimed or draining, in every pool folder, also of
 * pools no longer configured): runner-side `gc` must not take an idle pool task for an orphan because no job's state
 * file names it. The keeper itself stops pool tasks the directory does not name.
 */
export function poolOwnedTaskArns(config: DriverConfig): Set<string> {
  const root = config.poolDefaults.directory;
  const arns = new Set<string>();
  if (root === undefined || !poolRootExists(root)) return arns;
  for (const pool of readdirSync(root, { withFileTypes: true })) {
    if (!pool.isDirectory() || pool.name.startsWith('.')) continue;
    for (const { entry } of listEntries(root, pool.name)) if (entry.taskArn !== undefined) arns.add(entry.taskArn);
  }
  return arns;
}
