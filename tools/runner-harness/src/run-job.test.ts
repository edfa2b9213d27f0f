import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSpec } from './job.js';
import { stripAnsi } from './job-log.js';
import { runJob, type RunJobOptions } from './run-job.js';
import { parseRunnerConfig } from '@gitlab-fargate/config';
import type { RunnerSettings } from './runner-settings.js';
import { localRunnerConfigToml } from './fixtures/local-runner-config.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'harness-job-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const runner: RunnerSettings = parseRunnerConfig(localRunnerConfigToml('    graceful_kill_timeout = 2\n    force_kill_timeout = 1\n'))
  .config.runners[0]!;

async function run(job: Partial<JobSpec>, options: Partial<RunJobOptions> = {}, env: Record<string, string> = {}) {
  let log = '';
  let runnerLog = '';
  const result = await runJob({
    runner,
    job: { name: 'test', script: ['echo "It works!"'], afterScript: [], variables: {}, timeoutSeconds: 60, ...job },
    identity: { jobId: 1234, concurrentId: 3 },
    log: { write: (text) => { log += text; } },
    runnerLog: { write: (text) => { runnerLog += text; } },
    prepareRetryIntervalMs: 10,
    env: { PATH: process.env.PATH, LOCAL_DRIVER_ROOT: root, ...env },
    ...options,
  });
  const calls = readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n');
  return { result, log: stripAnsi(log), runnerLog, calls };
}

describe('runJob', () => {
  it('runs config, prepare, every stage in order and cleanup for a passing job', async () => {
    const { result, log, calls, runnerLog } = await run({ script: ['echo "It works!"', 'echo "$RUNNER_WIDE $CI_JOB_ID"'], afterScript: ['echo "status $CI_JOB_STATUS"'] });
    expect(result).toMatchObject({ outcome: 'success', jobId: 1234, prepareAttempts: 1 });
    expect(calls).toEqual([
      'config job=1234',
      'prepare job=1234 short=abcdefgh concurrent=3 job_env=from-config response_id="id":1234',
      'run prepare_script', 'run get_sources', 'run restore_cache', 'run download_artifacts', 'run build_script',
      'run after_script', 'run archive_cache', 'run upload_artifacts_on_success', 'run cleanup_file_variables',
      'cleanup job=1234',
    ]);
    expect(log).toContain('Using Custom executor with driver local-driver 1.0.0...');
    expect(log).toContain('$ echo "It works!"\nIt works!\n');
    expect(log).toContain('yes 1234\n');
    expect(log).toContain('status success\n');
    expect(log).toMatch(/Job succeeded\n$/);
    expect(runnerLog).toBe('cleanup_std=out cleaned up\n');
    expect(result.timings.map((t) => t.phase)).toEqual([
      'config', 'prepare', 'prepare_script', 'get_sources', 'restore_cache', 'download_artifacts', 'build_script',
      'after_script', 'archive_cache', 'upload_artifacts_on_success', 'cleanup_file_variables', 'cleanup',
    ]);
  });

  it('reports a failing script with its own exit code and still runs after_script and the failure stages', async () => {
    const { result, log, calls } = await run({ script: ['echo before', 'exit 3', 'echo never'], afterScript: ['echo "status $CI_JOB_STATUS"'] });
    expect(result).toMatchObject({ outcome: 'script_failure', exitCode: 3, reason: 'exit code 3' });
    expect(calls.slice(6)).toEqual(['run build_script', 'run after_script', 'run archive_cache_on_failure',
      'run upload_artifacts_on_failure', 'run cleanup_file_variables', 'cleanup job=1234']);
    expect(log).not.toContain('never');
    expect(log).toContain('status failed\n');
    expect(log).toMatch(/ERROR: Job failed: exit code 3\n$/);
  });

  it('retries a failed prepare three times, cleaning up after each attempt', async () => {
    const { result, log, calls } = await run({}, {}, { LOCAL_DRIVER_FAIL_PREPARE: '2' });
    expect(result).toMatchObject({ outcome: 'success', prepareAttempts: 3 });
    expect(calls.filter((c) => c.startsWith('cleanup'))).toHaveLength(3);
    expect(log.match(/ERROR: Preparation failed: prepare_exec: exit status 2/g)).toHaveLength(2);
    expect(log).toContain('simulated capacity shortage on attempt 2');
    expect(log).toContain('Will be retried in 0.01s ...');
  });

  it('fails the job as a system failure when every prepare attempt fails, running no stage', async () => {
    const { result, log, calls } = await run({}, {}, { LOCAL_DRIVER_FAIL_PREPARE: '9' });
    expect(result).toMatchObject({ outcome: 'system_failure', prepareAttempts: 3, reason: 'prepare_exec: exit status 2' });
    expect(calls.filter((c) => c.startsWith('run'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('cleanup'))).toHaveLength(3);
    expect(log).toMatch(/ERROR: Job failed \(system failure\): prepare_exec: exit status 2\n$/);
  });

  it('stops a job that outlives its timeout and still cleans up', async () => {
    const { result, log, calls } = await run({ script: ['sleep 30'], afterScript: ['echo after'], timeoutSeconds: 1 });
    expect(result).toMatchObject({ outcome: 'timed_out', reason: 'execution took longer than 0m1s seconds' });
    expect(calls.at(-1)).toBe('cleanup job=1234');
    expect(calls).not.toContain('run after_script');
    expect(log).toMatch(/ERROR: Job failed: execution took longer than 0m1s seconds\n$/);
  });

  it('cancels a running job on request and still cleans up', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { result, calls } = await run({ script: ['sleep 30'] }, { signal: controller.signal });
    expect(result).toMatchObject({ outcome: 'canceled' });
    expect(calls.at(-1)).toBe('cleanup job=1234');
  });

  it('treats config output that is not JSON as a failed preparation', async () => {
    const { result, log } = await run({}, { prepareAttempts: 1 }, { LOCAL_DRIVER_CONFIG_OUTPUT: 'not json' });
    expect(result.outcome).toBe('system_failure');
    expect(result.reason).toMatch(/^error while parsing JSON output: /);
    expect(log).toContain('ERROR: Preparation failed: error while parsing JSON output');
  });
});
