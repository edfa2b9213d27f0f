export { defaultScriptShape, type ScriptShape } from './bash-script.js';
export { parseDurationSeconds } from './duration.js';
export { JobSpecError, loadJobSpec, parseJobSpec, type JobSpec, type SavedFiles } from './job.js';
export { jobIdentity, type JobIdentity } from './job-environment.js';
export { stripAnsi, type JobLogSink } from './job-log.js';
export { afterScriptTimeoutSeconds, runJob, type JobOutcome, type JobResult, type PhaseTiming, type RunJobOptions } from './run-job.js';
export { loadRunnerSettings, RunnerSelectionError } from './runner-config.js';
export { shortToken, type RunnerSettings } from './runner-settings.js';
