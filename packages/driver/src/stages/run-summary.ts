import type { PricingSettings } from '@gitlab-fargate/config';
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
    ctx.stdout.write(await jobSummaryText(path, ctx.config.pricing, now()));
  } catch (error) {
    ctx.log.warn(`${SUMMARY_FAILED}${messageOf(error)}`);
  }
}

/** How a summary that could not be printed is reported. */
export const SUMMARY_FAILED = "could not print the job's timeline and cost: ";

/**
 * The job log's last lines (the task's timeline and the job's cost so far) from the job's state file, one `\n` each;
 * empty without a state. Printed after the last stage by whoever ran it: the Node stage, or the multiplexer for the
 * native client.
 */
export async function jobSummaryText(statePath: string, pricing: PricingSettings, now: number): Promise<string> {
  const state = readState(statePath);
  if (state === undefined) return '';
  const { jobSummary } = await import('../metrics/summary.js');
  return jobSummary(state, now, pricing).map((line) => `${line}\n`).join('');
}
