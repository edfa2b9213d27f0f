import { readState, writeState } from '../job/state.js';
import { readJobRecord, type JobRecord } from './job-record.js';
import { mergeOutcome, stageOutcome } from './outcome.js';

/**
 * Records in the job's state file what a stage's end says about the job (see `outcome.ts`), with what prepare
 * observed so far when given. Writes only when that changes the record. Never fails the stage: the job's result
 * matters more than its metrics, so a problem is returned for the caller to log.
 */
export function recordStageOutcome(path: string, stage: string, error: unknown, observed?: JobRecord): string | undefined {
  const next = stageOutcome(stage, error);
  if (next === undefined && observed === undefined) return undefined;
  try {
    const state = readState(path);
    if (state === undefined) return undefined;
    const previous = readJobRecord(state.metrics);
    const outcome = mergeOutcome(previous.outcome, next);
    if (outcome === previous.outcome && observed === undefined) return undefined;
    writeState(path, { ...state, metrics: { ...previous, ...observed, ...(outcome !== undefined ? { outcome } : {}) } });
    return undefined;
  } catch (problem) {
    return `could not record the ${stage} stage's outcome for the job's metrics: ${(problem as Error).message}`;
  }
}
