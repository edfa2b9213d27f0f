import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // gitlab-ci-local takes 0.5-2 s per run; the local job run starts tsx twice. Two shared cores can triple that.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
