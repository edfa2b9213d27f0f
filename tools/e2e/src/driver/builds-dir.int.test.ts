import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BUILDS_DIR } from '@gitlab-fargate/config';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { loadRunnerSettings, runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, discard, job, waitForNothingLeft } from '../index.js';

// config.toml's builds_dir is the one place a job's folder is set: the driver's config stage prints none, so
// gitlab-runner (the harness here) uses config.toml's, and the job's script runs under it in the task.
let stack: LocalStack;

useLocalStack((started) => {
  stack = started;
});

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };
const BUILDS_DIR = '/srv/ci/builds';

/** The stack's config.toml with another `builds_dir`, written beside it and read as the harness reads any. */
async function runnerWithBuildsDir(buildsDir: string): Promise<RunnerSettings> {
  const original = await readFile(stack.runnerConfigPath, 'utf8');
  const line = `builds_dir = ${JSON.stringify(DEFAULT_BUILDS_DIR)}`;
  expect(original).toContain(line);
  const path = join(stack.workDir, 'config-builds-dir.toml');
  await writeFile(path, original.replace(line, `builds_dir = ${JSON.stringify(buildsDir)}`), { mode: 0o600 });
  return loadRunnerSettings(path);
}

describe("config.toml's builds_dir through the driver", () => {
  it('puts the job under a non-default builds_dir: pwd, CI_PROJECT_DIR and CI_BUILDS_DIR', async () => {
    const runner = await runnerWithBuildsDir(BUILDS_DIR);
    expect(runner.buildsDir).toBe(BUILDS_DIR);
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({
        script: [
          'echo "pwd=$(pwd)"',
          'echo "project=$CI_PROJECT_DIR"',
          'echo "builds=$CI_BUILDS_DIR"',
          'test "$(pwd)" = "$CI_PROJECT_DIR"',
          'test -d "$CI_PROJECT_DIR"',
        ],
      }),
    });
    expect(result.outcome, log.text).toBe('success');
    const pwd = /^pwd=(\S+)$/m.exec(log.text)?.[1];
    expect(pwd?.startsWith(`${BUILDS_DIR}/`), log.text).toBe(true);
    const lines = log.text.split('\n');
    expect(lines).toContain(`project=${pwd}`);
    expect(lines).toContain(`builds=${BUILDS_DIR}`);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});
