export { runDemo, type DemoOptions, type DemoResult } from './demo.js';
export { failingExitCode, failingJob, seedArticleJob, type DemoJob } from './jobs.js';
export { meetsExpectation, summaryLine, summaryTable, type JobReport } from './summary.js';
export { parseDemoArgs, UsageError, usage, type DemoCommand } from './args.js';
