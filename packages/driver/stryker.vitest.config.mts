import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mjs';

// What `stryker run` (stryker.config.mjs) runs against each mutant: the in-process tests. Tests that start the
// compiled CLI or the multiplexer as processes run dist/, which StrykerJS does not mutate, so they cannot kill a
// mutant and only cost time; the SSH transport's tests stay (a real sshd, in process: they check the host-key pinning).
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      exclude: [
        'src/cli.test.ts',
        'src/stages/imports.test.ts',
        'src/stages/job.int.test.ts',
        'src/stages/run.int.test.ts',
        'src/ssh/mux/mux.int.test.ts',
        'src/ssh/mux/launcher.test.ts',
      ],
    },
  }),
);
