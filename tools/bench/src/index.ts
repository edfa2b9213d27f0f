export { runBench, renderReport, type BenchOptions, type BenchReport } from './bench.js';
export { FULL_SETTINGS, SMOKE_SETTINGS, type BenchSettings } from './suites/context.js';
export { SUITE_IDS, type SuiteId, type SuiteResult, type Table, type TargetCheck } from './report/types.js';
export { startCountingProxy, type ApiCounts, type CountingProxy } from './stack/counting-proxy.js';
export { median, percentile } from './measure/stats.js';
