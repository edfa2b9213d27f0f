import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Image builds and container starts share two cores with other packages' tests.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // One Docker-heavy file at a time keeps the machine responsive.
    fileParallelism: false,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' },
  },
});
