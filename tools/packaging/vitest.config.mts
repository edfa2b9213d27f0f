import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // beforeAll packs and installs: aws-cdk-lib alone is ~160 MB to extract, slow on two shared cores.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
