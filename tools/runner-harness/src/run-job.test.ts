import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSpec } from './job.js';
import { stripAnsi } from './job-log.js';
import { afterScriptTimeoutSeconds, runJob, type RunJobOptions } from './run-job.js';
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
  const { log: watcher, ...rest } = options;
  const result = await runJob({
    runner,
    job: { name: 'test', script: ['echo "It works!"'], afterScript: [], variables: {}, timeoutSeconds: 60, ...job },
    identity: { jobId: 1234, concurrentId: 3 },
    log: { write: (text) => { log += text; watcher?.write(text); } },
    runnerLog: { write: (text) => { runnerLog += text; } },
    prepareRetryIntervalMs: 10,
    env: { PATH: process.env.PATH, LOCAL_DRIVER_ROOT: root, ...env },
    ...rest,
  });
  const calls = readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n');
  return { result, log: stripAnsi(log), runnerLog, calls };
}

describe('runJob', () => {
  it('calls run 4 times for a plain job, 5 with after_script, as gitlab-runner skips stages with nothing to do', async () => {
    const plain = await run({ script: ['echo "It works!"', 'echo "$RUNNER_WIDE $CI_JOB_ID"'] });
    expect(plain.result).toMatchObject({ outcome: 'success', jobId: 1234, prepareAttempts: 1 });
    expect(plain.calls).toEqual([
      // The builds folder is unknown until config answers: gitlab-runner passes both variables empty.
      'config job=1234 builds_dir= project_dir=',
      'prepare job=1234 short=abcdefghi concurrent=3 job_env=from-config response_id="id":1234',
      'run prepare_script', 'run get_sources', 'run build_script', 'run cleanup_file_variables',
      'cleanup job=1234',
    ]);
    expect(plain.log).toContain('Using Custom executor with driver local-driver 1.0.0...');
    expect(plain.log).toContain('$ echo "It works!"\nIt works!\n');
    expect(plain.log).toContain('yes 1234\n');
    expect(plain.log).toMatch(/Job succeeded\n$/);
    expect(plain.runnerLog).toBe('cleanup_std=out cleaned up\n');
    expect(plain.result.timings.map((t) => t.phase)).toEqual([
      'config', 'prepare', 'prepare_script', 'get_sources', 'build_script', 'cleanup_file_variables', 'cleanup',
    ]);
    rmSync(join(root, 'calls.log'));
    const withAfterScript = await run({ afterScript: ['echo "status $CI_JOB_STATUS"'] });
    expect(withAfterScript.calls.filter((c) => c.startsWith('run'))).toEqual([
      'run prepare_script', 'run get_sources', 'run build_script', 'run after_script', 'run cleanup_file_variables',
    ]);
    expect(withAfterScript.log).toContain('status success\n');
  });

  it('calls the cache, artifact and download stages a job configures, each for the result it applies to', async () => {
    const job = {
      cache: { paths: ['vendor/'], when: 'on_success' as const },
      artifacts: { paths: ['report.xml'], when: 'always' as const },
      dependencies: ['build'],
    };
    const passed = await run(job);
    expect(passed.calls.filter((c) => c.startsWith('run'))).toEqual([
      'run prepare_script', 'run get_sources', 'run restore_cache', 'run download_artifacts', 'run build_script',
      'run archive_cache', 'run upload_artifacts_on_success', 'run cleanup_file_variables',
    ]);
    rmSync(join(root, 'calls.log'));
    const failed = await run({ ...job, script: ['exit 3'] });
    // The cache is saved on success only; artifacts `when: always` are uploaded for the failed job too.
    expect(failed.calls.filter((c) => c.startsWith('run')).slice(4)).toEqual([
      'run build_script', 'run upload_artifacts_on_failure', 'run cleanup_file_variables',
    ]);
    expect(failed.log).toContain('Uploading artifacts for failed job');
    // Without an after_script too, the stages after the script see the job's status.
    expect(readFileSync(join(root, 'job-status.log'), 'utf8')).toMatch(/\nbuild_script running\nupload_artifacts_on_failure failed\ncleanup_file_variables failed\n$/);
  });

  it('reports a failing script with its own exit code and still runs after_script and cleanup_file_variables', async () => {
    const { result, log, calls } = await run({ script: ['echo before', 'exit 3', 'echo never'], afterScript: ['echo "status $CI_JOB_STATUS"'] });
    expect(result).toMatchObject({ outcome: 'script_failure', exitCode: 3, reason: 'exit code 3' });
    expect(calls.slice(4)).toEqual(['run build_script', 'run after_script', 'run cleanup_file_variables',
      'cleanup job=1234', 'cleanup sees build_exit_code=3']);
    expect(log).not.toContain('never');
    expect(log).toContain('status failed\n');
    expect(log).toMatch(/ERROR: Job failed: exit code 3\n$/);
  });

  it('reads the exit-code file as Go\'s Atoi does: "3 " is no number and makes a system failure', async () => {
    const spaced = await run({ script: ['exit 3'] }, {}, { LOCAL_DRIVER_EXIT_CODE_TEXT: '3 ' });
    expect(spaced.result).toMatchObject({
      outcome: 'system_failure',
      reason: 'run_exec (build_script): unknown Custom executor executable exit code 2; executable execution terminated with: exit status 1',
    });
    expect(spaced.result.exitCode).toBeUndefined();
    for (const [text, exitCode] of [['4\r\nignored', 4], ['+5', 5], ['-6\n', -6]] as const) {
      const read = await run({ script: ['exit 3'] }, {}, { LOCAL_DRIVER_EXIT_CODE_TEXT: text });
      expect(read.result).toMatchObject({ outcome: 'script_failure', exitCode });
    }
    for (const text of ['', ' 3', '0x3', '3.0', '99999999999999999999']) {
      const refused = await run({ script: ['exit 3'] }, {}, { LOCAL_DRIVER_EXIT_CODE_TEXT: text });
      expect(refused.result.outcome, JSON.stringify(text)).toBe('system_failure');
    }
  });

  it('keeps the exit-code file between stages: a later stage\'s failure without a file reads the earlier code', async () => {
    // build_script writes 7; after_script fails with the system-failure code and writes nothing; the file stays.
    const { calls, result } = await run({ script: ['exit 7'], afterScript: ['true'] }, {}, { LOCAL_DRIVER_SYSTEM_FAILURE_STAGE: 'after_script' });
    expect(result).toMatchObject({ outcome: 'script_failure', exitCode: 7 });
    expect(calls.slice(-2)).toEqual(['cleanup job=1234', 'cleanup sees build_exit_code=7']);
  });

  it('treats a driver killed by a signal as an unknown failure and still runs after_script and cleanup_file_variables', async () => {
    const { result, log, calls } = await run({ afterScript: ['echo "status $CI_JOB_STATUS"'] }, {}, { LOCAL_DRIVER_KILLED_STAGE: 'build_script' });
    expect(result).toMatchObject({
      outcome: 'system_failure',
      reason: 'run_exec (build_script): unknown Custom executor executable exit code -1; executable execution terminated with: signal: SIGKILL',
    });
    expect(calls.slice(4, 7)).toEqual(['run build_script', 'run after_script', 'run cleanup_file_variables']);
    expect(log).toContain('status failed\n');
  });

  it('runs after_script and cleanup_file_variables after a system failure of the script, warning when they fail too', async () => {
    const { result, log, calls } = await run({ afterScript: ['echo "status $CI_JOB_STATUS"'] }, {}, { LOCAL_DRIVER_SYSTEM_FAILURE_STAGE: 'build_script' });
    expect(result).toMatchObject({ outcome: 'system_failure', reason: 'run_exec (build_script): exit status 2' });
    expect(calls.slice(4, 7)).toEqual(['run build_script', 'run after_script', 'run cleanup_file_variables']);
    expect(log).toContain('status failed\n');
  });

  it('after a cancel during the script, runs after_script with CI_JOB_STATUS=canceled and cleanup_file_variables', async () => {
    const controller = new AbortController();
    const { result, log, calls } = await run(
      { script: ['echo reached-the-marker', 'sleep 30', 'echo never'], afterScript: ['echo "status $CI_JOB_STATUS"'] },
      { signal: controller.signal, log: onMarker('reached-the-marker', () => controller.abort()) },
    );
    expect(result).toMatchObject({ outcome: 'canceled', reason: 'canceled' });
    expect(calls.slice(4)).toEqual(['run build_script', 'run after_script', 'run cleanup_file_variables', 'cleanup job=1234']);
    expect(log).toContain('status canceled\n');
    expect(log).not.toContain('never');
    expect(log).toMatch(/ERROR: Job failed: canceled\n$/);
    // The driver sees the status too, from after_script on, as gitlab-runner overwrites the job's variable.
    expect(readFileSync(join(root, 'job-status.log'), 'utf8')).toBe(
      'prepare_script running\nget_sources running\nbuild_script running\nafter_script canceled\ncleanup_file_variables canceled\n');
  });

  it('bounds after_script by its own timeout (RUNNER_AFTER_SCRIPT_TIMEOUT, else 5 minutes) without failing the job', async () => {
    expect(afterScriptTimeoutSeconds).toBe(300);
    const { result, log, calls } = await run({ afterScript: ['sleep 30'], variables: { RUNNER_AFTER_SCRIPT_TIMEOUT: '1s' } });
    expect(result).toMatchObject({ outcome: 'success' });
    expect(calls.slice(5)).toEqual(['run after_script', 'run cleanup_file_variables', 'cleanup job=1234']);
    expect(log).toContain('WARNING: after_script failed, but job will continue unaffected: run_exec (after_script): ');
  });

  it.each([['19.1', "(trap 'exit 1' TERM; eval $'"], ['19.0', ": | eval $'"]] as const)(
    'hands run_exec stage scripts in gitlab-runner %s shape', async (shape, evalLine) => {
      const { result } = await run({}, { scriptShape: shape });
      expect(result.outcome).toBe('success');
      const script = readFileSync(join(root, 'scripts', 'build_script'), 'utf8');
      expect(script.split('\n').filter((line) => line.includes('eval'))).toEqual([expect.stringContaining(evalLine)]);
      expect(script).toContain('\\nexport CI_JOB_ID=1234\\n');
      expect(script).toContain(`\\ncd ${root}/builds/demo/fargate-project\\n`);
    });

  it('writes file variables in each stage and removes them in cleanup_file_variables', async () => {
    const { result, log } = await run({ script: ['cat "$DEPLOY_KEY"'], fileVariables: { DEPLOY_KEY: 'line one\nline two\n' } });
    expect(result.outcome).toBe('success');
    expect(log).toContain('line one\nline two\n');
    const scripts = (stage: string) => readFileSync(join(root, 'scripts', stage), 'utf8');
    // The line as it sits inside the stage script's own $'…' (quoted a second time).
    expect(scripts('build_script')).toContain(String.raw`printf \'%s\' $\'line one\\nline two\\n\' > `);
    expect(scripts('prepare_script')).not.toContain('export ');
    expect(scripts('cleanup_file_variables')).not.toContain('line one');
    expect(existsSync(join(root, 'builds/demo/fargate-project.tmp/DEPLOY_KEY'))).toBe(false);
    expect(existsSync(join(root, 'builds/demo/fargate-project.tmp'))).toBe(true);
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

  it('stops a slow provisioning at the prepare timeout: SIGTERM, one attempt, no stage, cleanup', async () => {
    // 2 s: time enough for config on a loaded machine, so the deadline falls in prepare.
    const { result, log, calls } = await run({}, { prepareTimeoutSeconds: 2 }, { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    expect(result).toMatchObject({ outcome: 'timed_out', prepareAttempts: 1, reason: 'prepare timeout: exceeded timeout of 0m2s' });
    expect(calls.filter((c) => !c.startsWith('config'))).toEqual([calls[1], 'cleanup job=1234']);
    expect(log).toContain('prepare: terminated while provisioning');
  });

  it("takes the prepare timeout from config.toml's prepare_timeout when the option is not given", async () => {
    const fromConfig: RunnerSettings = { ...runner, prepareTimeout: 2 };
    expect(parseRunnerConfig(localRunnerConfigToml().replace('executor = "custom"', 'executor = "custom"\n  prepare_timeout = "2s"')).config.runners[0]?.prepareTimeout).toBe(2);
    const { result, calls } = await run({}, { runner: fromConfig }, { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    expect(result).toMatchObject({ outcome: 'timed_out', prepareAttempts: 1, reason: 'prepare timeout: exceeded timeout of 0m2s' });
    expect(calls.filter((c) => c.startsWith('run'))).toEqual([]);
    expect(calls.at(-1)).toBe('cleanup job=1234');
  });

  it('lets the prepareTimeoutSeconds option win over config.toml, and reads 0 or more than the job timeout as the job timeout', async () => {
    const optionWins = await run({}, { runner: { ...runner, prepareTimeout: 600 }, prepareTimeoutSeconds: 2 }, { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    expect(optionWins.result).toMatchObject({ outcome: 'timed_out', reason: 'prepare timeout: exceeded timeout of 0m2s' });
    rmSync(join(root, 'calls.log'));
    const zero = await run({ timeoutSeconds: 2 }, { runner: { ...runner, prepareTimeout: 0 } }, { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    // Bounded by the job's 2 s, not by 0 s: prepare was called and timed out, no stage ran.
    expect(zero.result).toMatchObject({ outcome: 'timed_out', prepareAttempts: 1 });
    expect(zero.calls.filter((c) => c.startsWith('prepare'))).toHaveLength(1);
    expect(zero.calls.filter((c) => c.startsWith('run'))).toEqual([]);
  });

  it('stops a slow provisioning at the job timeout: one attempt, no stage, cleanup', async () => {
    const { result, calls } = await run({ timeoutSeconds: 2 }, {}, { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    expect(result).toMatchObject({ outcome: 'timed_out', prepareAttempts: 1, reason: 'execution took longer than 0m2s seconds' });
    expect(calls.filter((c) => c.startsWith('run'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('cleanup'))).toEqual(['cleanup job=1234']);
  });

  it('cancels a slow provisioning: one attempt, no stage, cleanup', async () => {
    const controller = new AbortController();
    const { result, calls } = await run({}, { signal: controller.signal, log: onMarker('Provisioning (slowly)', () => controller.abort()) },
      { LOCAL_DRIVER_SLOW_PREPARE: '1' });
    expect(result).toMatchObject({ outcome: 'canceled', prepareAttempts: 1 });
    expect(calls.filter((c) => c.startsWith('run'))).toEqual([]);
    expect(calls.at(-1)).toBe('cleanup job=1234');
  });

  it('runs the stages when prepare exits 0 after its prepare_exec_timeout SIGTERM, as gitlab-runner does', async () => {
    // gitlab-runner judges a stopped driver by its exit code alone: a driver must exit with the system-failure
    // code when it is stopped, or the runner goes on as if it were prepared.
    const slowRunner = parseRunnerConfig(localRunnerConfigToml('    prepare_exec_timeout = 1\n')).config.runners[0]!;
    const { result, calls } = await run({}, { runner: slowRunner }, { LOCAL_DRIVER_SLOW_PREPARE: '1', LOCAL_DRIVER_PREPARE_TERM_EXIT: '0' });
    expect(result).toMatchObject({ outcome: 'success', prepareAttempts: 1 });
    expect(calls.filter((c) => c.startsWith('run'))).toHaveLength(4);
  });

  it('stops a job that outlives its timeout and runs no stage after it, but cleanup', async () => {
    // 3 s: time enough for the stages before the script on a loaded machine, so the deadline falls in the script.
    const { result, log, calls } = await run({ script: ['sleep 30'], afterScript: ['echo after'], timeoutSeconds: 3 });
    expect(result).toMatchObject({ outcome: 'timed_out', reason: 'execution took longer than 0m3s seconds' });
    expect(calls.slice(4)).toEqual(['run build_script', 'cleanup job=1234']);
    expect(log).toMatch(/ERROR: Job failed: execution took longer than 0m3s seconds\n$/);
  });

  it('fails preparation when config names a shell the harness cannot write, as the runner fails an unknown shell', async () => {
    const { result, calls } = await run({}, { prepareAttempts: 1 }, { LOCAL_DRIVER_CONFIG_OUTPUT: '{"shell":"pwsh"}' });
    expect(result).toMatchObject({ outcome: 'system_failure', reason: 'config_exec names shell "pwsh": the harness writes bash scripts only' });
    expect(calls.filter((c) => c.startsWith('prepare') || c.startsWith('run'))).toEqual([]);
  });

  it('treats config output that is not JSON as a failed preparation', async () => {
    const { result, log } = await run({}, { prepareAttempts: 1 }, { LOCAL_DRIVER_CONFIG_OUTPUT: 'not json' });
    expect(result.outcome).toBe('system_failure');
    expect(result.reason).toMatch(/^error while parsing JSON output: /);
    expect(log).toContain('ERROR: Preparation failed: error while parsing JSON output');
  });
});

/** A job-log sink that calls `then` once, when the log first shows `marker`: a cancel at a known point. */
function onMarker(marker: string, then: () => void): { write(text: string): void } {
  let seen = '';
  let fired = false;
  return {
    write(text: string) {
      seen += text;
      if (!fired && seen.includes(marker)) {
        fired = true;
        then();
      }
    },
  };
}
