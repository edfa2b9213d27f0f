import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunnerConfig } from '@gitlab-fargate/config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localRunnerConfigToml } from './fixtures/local-runner-config.js';
import { stripAnsi } from './job-log.js';
import { runJob } from './run-job.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'harness-builds-dir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** What gitlab-fargate-driver's config stage prints: no builds_dir or cache_dir, as upstream's driver. */
const CONFIG_WITHOUT_DIRECTORIES = JSON.stringify({ driver: { name: 'gitlab-fargate-driver', version: '0.0.0' }, hostname: 'h', builds_dir_is_shared: false });

describe('builds_dir and cache_dir', () => {
  it("come from config.toml when the config stage prints none, as in gitlab-runner", async () => {
    const buildsDir = join(root, 'builds-from-config-toml');
    const cacheDir = join(root, 'cache-from-config-toml');
    const toml = localRunnerConfigToml().replace('"/unused/builds"', JSON.stringify(buildsDir)).replace('"/unused/cache"', JSON.stringify(cacheDir));
    const runner = parseRunnerConfig(toml).config.runners[0]!;
    let log = '';
    const result = await runJob({
      runner,
      job: { name: 'where', script: ['echo "pwd=$(pwd) builds=$CI_BUILDS_DIR project=$CI_PROJECT_DIR"'], afterScript: [], variables: {}, timeoutSeconds: 60 },
      identity: { jobId: 7, concurrentId: 1, projectPath: 'group/project' },
      log: { write: (text) => { log += text; } },
      prepareRetryIntervalMs: 10,
      env: { PATH: process.env.PATH, LOCAL_DRIVER_ROOT: join(root, 'driver'), LOCAL_DRIVER_CONFIG_OUTPUT: CONFIG_WITHOUT_DIRECTORIES },
    });
    expect(result.outcome).toBe('success');
    const project = join(buildsDir, 'group/project');
    expect(stripAnsi(log)).toContain(`pwd=${project} builds=${buildsDir} project=${project}\n`);
    expect(existsSync(project)).toBe(true);
  });
});
