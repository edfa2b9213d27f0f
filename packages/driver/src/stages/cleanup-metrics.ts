import { estimateCost } from '../cost/estimate.js';
import { messageOf } from '../errors.js';
import type { JobState } from '../job/state.js';
import { jobMetricsDocument } from '../metrics/emf.js';
import { readJobRecord } from '../metrics/job-record.js';
import { ENVIRONMENT_TAG } from '../metrics/names.js';
import { finalOutcome } from '../metrics/outcome.js';
import { jobPhases, regionOfArn, taskUsage } from '../metrics/phases.js';
import type { StageContext } from './context.js';

/**
 * Cleanup's one metrics document for the job (CloudWatch embedded metric format, see `metrics/emf.ts`) on the
 * structured log: start latency and its parts, readiness lag, outcome, cost until now (the task is being stopped).
 * Built from the state file; never fails cleanup, whose job is to stop the task.
 */
export function emitJobMetrics(ctx: StageContext, state: JobState, now: number = Date.now()): void {
  try {
    const record = readJobRecord(state.metrics);
    const usage = taskUsage(record, state.taskArn, now);
    const region = regionOfArn(state.taskArn) ?? state.region;
    ctx.log.document(
      jobMetricsDocument({
        timestamp: now,
        environment: ctx.config.fargate.tags[ENVIRONMENT_TAG] ?? state.cluster,
        runner: state.runnerShortToken,
        project: ctx.env.projectPath,
        jobId: state.jobId,
        ...(state.taskArn !== undefined ? { taskArn: state.taskArn } : {}),
        outcome: finalOutcome(record.outcome, state.hostKey !== undefined),
        phases: jobPhases(record, Date.parse(state.createdAt)),
        ...(usage !== undefined ? { cost: estimateCost(usage, ctx.config.pricing) } : {}),
        ...(region !== undefined ? { region } : {}),
        start: state.pool === undefined ? 'cold' : 'warm',
      }),
    );
  } catch (error) {
    ctx.log.warn(`could not write the job's metrics: ${messageOf(error)}`);
  }
}
