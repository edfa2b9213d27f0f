// Mutation testing (`npm run mutation` at the root; results in docs/testing.md) of the modules where a silent
// mistake costs most: the per-job overrides and task size a job may ask for, the exit codes the runner acts on,
// the state file that holds the task and its key, cleanup, and the pinned host key.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'stryker.vitest.config.mts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/job/overrides.ts',
    'src/job/task-size.ts',
    'src/job/state.ts',
    'src/stages/cleanup.ts',
    // The catch that maps a failure to the runner's exit codes, and the build-failure report. Line ranges: check
    // them against src/main.ts when it changes (a mutate range that drifts mutates the wrong code silently).
    'src/main.ts:105-121',
    'src/main.ts:159-175',
    // The host-key check: the pinned key against the presented one, and the error it turns into.
    'src/ssh/connect.ts:39-79',
  ],
  ignorePatterns: ['dist', 'test-results', 'reports', '*.tsbuildinfo'],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  // Two cores, shared with whatever else runs.
  concurrency: 2,
  timeoutMS: 60_000,
};
