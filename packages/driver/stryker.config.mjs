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
    // The failure-to-exit-code mapping and the build-failure report.
    'src/failure-exit-code.ts',
    // main() down to runJobCommand(): the exit codes of a bad command line, help, version, validate, report, and
    // which code a stage or gc fails with. A line range: check it against src/main.ts when that changes (a range
    // that drifts mutates the wrong code silently).
    'src/main.ts:49-117',
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
