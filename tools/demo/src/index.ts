export { runDemo, type DemoOptions, type DemoResult } from './demo.js';
export { failingExitCode, failingJob, imageAndServiceJob, seedArticleJob, SERVICE_ALIAS, type DemoJob, type ImageJobImages } from './jobs.js';
export { buildDemoImages, DEMO_IMAGES, SERVICE_PAGE } from './demo-images.js';
export { meetsExpectation, summaryLine, summaryTable, type JobReport } from './summary.js';
export { parseDemoArgs, UsageError, usage, type DemoCommand } from './args.js';
