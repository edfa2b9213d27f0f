import type { ECSClient } from '@aws-sdk/client-ecs';
import type { JobImageSettings } from '@gitlab-fargate/config';
import { listUnusedFamilies, retireFamily } from '../aws/task-definition-gc.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';

/** What {@link retireUnusedFamilies} did (or, in a dry run, would do). */
export interface FamilyRetirement {
  /** Families whose unused revisions were deregistered or deleted. */
  readonly retired: string[];
  /** Families gc could not retire (the next gc tries again). */
  readonly failed: string[];
}

/**
 * gc's part of `[JobImages]`: the derived task definition families (`<FamilyPrefix>-<16 hex>`, tagged
 * `gitlab-fargate:managed=true`) unused for `UnusedFamilyTTL` are deregistered, and those deregistered that long ago
 * deleted. A family in use again registers anew on its next job. One line per family; a failure does not stop the rest.
 */
export async function retireUnusedFamilies(
  ecs: ECSClient,
  settings: Pick<JobImageSettings, 'familyPrefix' | 'unusedFamilyTtl'>,
  options: { readonly cacheFile?: string; readonly dryRun: boolean; readonly log: Logger; readonly now?: () => number },
): Promise<FamilyRetirement> {
  const { log, dryRun } = options;
  const result: FamilyRetirement = { retired: [], failed: [] };
  const unused = await listUnusedFamilies(ecs, {
    familyPrefix: settings.familyPrefix,
    ttlSeconds: settings.unusedFamilyTtl,
    ...(options.cacheFile === undefined ? {} : { cacheFile: options.cacheFile }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  for (const family of unused) {
    try {
      const cache = options.cacheFile === undefined ? {} : { cacheFile: options.cacheFile };
      const done = await retireFamily(ecs, family, { ...cache, dryRun });
      const verb = dryRun ? 'would retire' : 'retired';
      log.progress(
        `${verb} task definition family ${family.family} (unused since ${family.lastUsedAt}, [JobImages] UnusedFamilyTTL ${settings.unusedFamilyTtl} s): ` +
          `${done.deregistered.length} deregistered, ${done.deleted.length} deleted`,
      );
      result.retired.push(family.family);
    } catch (error) {
      log.error(`could not retire task definition family ${family.family}: ${messageOf(error)}`);
      result.failed.push(family.family);
    }
  }
  return result;
}
