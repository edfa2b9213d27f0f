import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The CLI tests start the compiled CLI as a process; two shared cores make that slow at times.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' },
  },
});
