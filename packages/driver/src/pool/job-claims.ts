import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { StopOptions } from '../aws/launch.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { poolRootExists, readEntry, stateDirectory } from './directory.js';

/** One job's claimed entry: its file and the task it names (undefined when the file cannot be read). */
export interface JobClaim {
  readonly path: string;
  readonly taskArn?: string;
  readonly cluster?: string;
}

/**
 * The claimed entries of one job in every pool folder (`<root>/<pool>/claimed/<taskId>.<jobKey>.json`), found by name:
 * a prepare killed between its claim and its state file leaves one that the state does not name.
 */
export function claimsOfJob(root: string, jobKey: string): JobClaim[] {
  if (!poolRootExists(root)) return [];
  const suffix = `.${jobKey}.json`;
  const found: JobClaim[] = [];
  for (const pool of readdirSync(root, { withFileTypes: true })) {
    if (!pool.isDirectory() || pool.name.startsWith('.')) continue;
    const dir = stateDirectory(root, pool.name, 'claimed');
    for (const name of namesIn(dir)) {
      if (!name.endsWith(suffix)) continue;
      const path = join(dir, name);
      try {
        const { taskArn, cluster } = readEntry(path);
        found.push({ path, ...(taskArn === undefined ? {} : { taskArn }), cluster });
      } catch {
        found.push({ path });
      }
    }
  }
  return found;
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** What {@link releaseJobClaims} needs. */
export interface ReleaseInput {
  readonly ecs: ECSClient;
  /** `[PoolSettings] Directory`. */
  readonly root: string;
  /** The job's state-file stem. */
  readonly jobKey: string;
  /** The task the caller stops itself (the state's): not stopped twice. */
  readonly ownTaskArn?: string;
  /** Why, for StopTask's reason. */
  readonly reason: string;
  readonly stop: StopOptions;
  readonly log: Logger;
}

/**
 * Removes a job's claimed entries (each holds its task's private key), stopping first every task among them that
 * the caller does not stop itself: each pool task serves one job. A stop that fails is a warning; the entry goes all
 * the same, so the task is no longer the pool's and `gc` stops it by age. @returns the task ARNs it stopped
 */
export async function releaseJobClaims(input: ReleaseInput): Promise<string[]> {
  const stopped: string[] = [];
  for (const claim of claimsOfJob(input.root, input.jobKey)) {
    if (claim.taskArn !== undefined && claim.cluster !== undefined && claim.taskArn !== input.ownTaskArn) {
      try {
        // Loaded only when there is a task to stop: prepare calls this on every start, and almost always finds none.
        const { stopTask } = await import('../aws/launch.js');
        await stopTask(input.ecs, { cluster: claim.cluster, taskArn: claim.taskArn, reason: input.reason }, input.stop);
        stopped.push(claim.taskArn);
      } catch (error) {
        input.log.warn(`could not stop pool task ${claim.taskArn} claimed by this job (gc stops it by age): ${messageOf(error)}`);
      }
    }
    rmSync(claim.path, { force: true });
  }
  return stopped;
}
