/**
 * The task (projen) and target (Nx) that runs a package's unit tests alone. `*.int.test.ts` files start containers
 * or the ECS emulator and need a Docker engine; a unit test needs none. A Fargate task cannot run dockerd, so the
 * pipeline's jobs run this target, not `test` (.gitlab-ci.yml; tools/pipeline's tests check it).
 */
export const UNIT_TEST_TASK = 'test:unit';

/** vitest's reporters: the JSON report is what .ci/run sums into its closing "N passed, N failed" line. */
export const VITEST_REPORT_ARGS = '--reporter=default --reporter=json --outputFile.json=test-results/vitest.json';

/** Every test of the package. */
export const VITEST_ALL = `vitest run ${VITEST_REPORT_ARGS}`;

/** The unit tests: every test file but the integration tests (a package with none of them passes). */
export const VITEST_UNIT = `vitest run --exclude '**/*.int.test.ts' --passWithNoTests ${VITEST_REPORT_ARGS}`;
