// Mutation testing (`npm run mutation` at the root; results in docs/testing.md): the modules where a silent
// mistake costs most. The [Overrides] allow-lists decide which task definition, and so which IAM role, a job may
// choose; the Fargate size tables and the [Overrides] ceilings bound what a job may ask for.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.config.mts' },
  coverageAnalysis: 'perTest',
  // The schema's range is the [Overrides] section (`const overrides = section(...)`): move it with the section.
  mutate: ['src/driver/allow-list.ts', 'src/aws/fargate-sizing.ts', 'src/driver/schema.ts:53-69'],
  ignorePatterns: ['dist', 'test-results', 'reports', '*.tsbuildinfo'],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  // Two cores, shared with whatever else runs.
  concurrency: 2,
  // A fresh test process per mutant: the schema's tables are built when its module loads, and a reused process
  // would keep the unmutated ones (those mutants then "survive" whatever the tests check).
  maxTestRunnerReuse: 1,
  timeoutMS: 30_000,
};
