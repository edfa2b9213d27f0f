import { messageOf } from '../errors.js';
import { readState } from '../job/state.js';
import { recordStageOutcome } from '../metrics/record-outcome.js';
import { SUMMARY_STAGE, jobSummary } from '../metrics/summary.js';
import { type StageContext, jobStatePath } from './context.js';

/**
 * After each run stage: records what its end says about the job (the script's result, a failure) for cleanup's
 * metrics, and after the last stage (`cleanup_file_variables`) prints the task's timeline and the job's cost so far
 * to the job log. Reads and writes only the state file, and never fails the stage.
 */
export function afterRunStage(ctx: StageContext, stageName: string, failure: unknown, now: () => number = Date.now): void {
  const path = jobStatePath(ctx);
  const problem = recordStageOutcome(path, stageName, failure);
  if (problem !== undefined) ctx.log.warn(problem);
  if (stageName !== SUMMARY_STAGE) return;
  try {
    const state = readState(path);
    if (state === undefined) return;
    ctx.stdout.write(jobSummary(state, now(), ctx.config.pricing).map((line) => `${line}\n`).join(''));
  } catch (error) {
    ctx.log.warn(`could not print the job's timeline and cost: ${messageOf(error)}`);
  }
}
