import { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR, parseRunnerConfig } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { CI_COORDINATOR_DEFAULTS } from './ci-coordinator.js';

describe('ci-coordinator defaults', () => {
  it("create the folders the runner's config.toml names by default (render runner's builds_dir and cache_dir)", () => {
    expect(CI_COORDINATOR_DEFAULTS.buildsDir).toBe(DEFAULT_BUILDS_DIR);
    expect(CI_COORDINATOR_DEFAULTS.cacheDir).toBe(DEFAULT_CACHE_DIR);
    // The constants are what a config.toml written with them holds.
    const toml = `[[runners]]\nurl = "https://gitlab.com/"\ntoken = "glrt-x"\nexecutor = "custom"\nbuilds_dir = "${DEFAULT_BUILDS_DIR}"\ncache_dir = "${DEFAULT_CACHE_DIR}"\n[runners.custom]\nrun_exec = "/d"\n`;
    expect(parseRunnerConfig(toml).config.runners[0]).toMatchObject({
      buildsDir: CI_COORDINATOR_DEFAULTS.buildsDir,
      cacheDir: CI_COORDINATOR_DEFAULTS.cacheDir,
    });
  });
});
