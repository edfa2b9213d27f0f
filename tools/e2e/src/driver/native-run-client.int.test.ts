import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, NumberedLineChecker, discard, job, waitForNothingLeft } from '../index.js';

// Whole jobs through the runner harness with run_exec = the driver's native run client (packages/driver/native), as
// the runner-manager image renders it: the run stages relay bytes over the job's SSH multiplexer, which ends the last
// one with the job summary; none needs the Node driver that the config stage names in job_env for a fallback.
const BUILD_SCRIPT = fileURLToPath(new URL('../../../../packages/driver/native/build.sh', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../../../packages/driver/dist/native/gitlab-fargate-run', import.meta.url));

let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  // `--debug` before the driver's arguments: the Node stage then logs each stage it runs, the native client ignores it,
  // so the job log tells which stages fell back to Node.
  const args = settings.custom.runArgs ?? [];
  runner = { ...settings, custom: { ...settings.custom, runExec: CLIENT, runArgs: ['--debug', ...args.slice(args.indexOf('--config'))] } };
});

beforeAll(() => {
  execFileSync(BUILD_SCRIPT, [CLIENT], { stdio: 'inherit' });
});

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };
/** The Node stage's debug record as it starts a script (src/stages/run.ts), with its stage. */
const nodeStage = (stage: string): RegExp => new RegExp(`executing the script in the job container.*stage=${stage}\\b`);

describe('a job whose run stages go through the native run client', () => {
  it('reports the script exit code 3 as a script failure, runs every other stage, none of them in Node', async () => {
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({
        script: ['echo "build on $(hostname)"', 'echo "to stderr" >&2', 'exit 3'],
        afterScript: ['echo "after_script sees $CI_JOB_STATUS"'],
      }),
    });
    expect(result.outcome, log.text).toBe('script_failure');
    expect(result.exitCode).toBe(3);
    expect(result.timings.map((t) => [t.phase, t.exitCode])).toEqual([
      ['config', 0],
      ['prepare', 0],
      ['prepare_script', 0],
      ['get_sources', 0],
      ['build_script', 1],
      ['after_script', 0],
      ['cleanup_file_variables', 0],
      ['cleanup', 0],
    ]);
    expect(log.text).toContain('build on ');
    expect(log.text).toContain('to stderr');
    expect(log.text).toContain('after_script sees failed');
    for (const stage of ['prepare_script', 'get_sources', 'build_script', 'after_script', 'cleanup_file_variables']) {
      expect(log.text).not.toMatch(nodeStage(stage));
    }
    expect(log.text).toMatch(/Fargate task timeline .*\n[\s\S]*Fargate cost so far/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('streams 20 MiB of output intact and in order', async () => {
    const lines = 200 * 1024;
    const payload = 'z'.repeat(93);
    const checker = new NumberedLineChecker(payload);
    const result = await runJob({
      runner, env: stack.env, log: checker, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: [`awk 'BEGIN { for (i = 1; i <= ${lines}; i++) print i, "${payload}" }'`] }),
    });
    expect(result.outcome).toBe('success');
    expect(checker.problem).toBeUndefined();
    expect(checker.count).toBe(lines);
  });
});
