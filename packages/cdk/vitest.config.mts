import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // One stack synth takes about 3 s on 2 cores; files that synth several stacks need more.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file builds its own CDK apps; two workers keep the machine (2 cores, shared) responsive.
    maxWorkers: 2,
    env: {
      CDK_DISABLE_VERSION_CHECK: '1',
      JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20',
    },
  },
});
