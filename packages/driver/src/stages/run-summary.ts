import { messageOf } from '../errors.js';
import { readState } from '../job/state.js';
import { recordStageOutcome } from '../metrics/record-outcome.js';
import { type StageContext, jobStatePath } from './context.js';

/** The stage whose output ends with the summary: gitlab-runner always runs it, last (after after_script). */
export const SUMMARY_STAGE = 'cleanup_file_variables';

/**
 * After each run stage: records what its end says about the job (the script's result, a failure) for cleanup's
 * metrics, and after the last stage (`cleanup_file_variables`) prints the task's timeline and the job's cost so far
 * to the job log. Reads and writes only the state file, and never fails the stage. The summary's modules (cost,
 * prices) load only for that last stage: the other run stages do not pay for them.
 */
export async function afterRunStage(ctx: StageContext, stageName: string, failure: unknown, now: () => number = Date.now): Promise<void> {
  const path = jobStatePath(ctx);
  const problem = recordStageOutcome(path, stageName, failure);
  if (problem !== undefined) ctx.log.warn(problem);
  if (stageName !== SUMMARY_STAGE) return;
  try {
    const state = readState(path);
    if (state === undefined) return;
    const { jobSummary } = await import('../metrics/summary.js');
    ctx.stdout.write(jobSummary(state, now(), ctx.config.pricing).map((line) => `${line}\n`).join(''));
  } catch (error) {
    ctx.log.warn(`could not print the job's timeline and cost: ${messageOf(error)}`);
  }
}
