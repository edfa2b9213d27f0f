import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type JobResult, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, describeAllTasks, job, waitForNothingLeft } from '../index.js';

// Whole jobs through the runner harness with cleanup_exec = the driver's native client (packages/driver/native), as
// the config CLI renders it with --cleanup-exec: the job's SSH multiplexer runs the driver's cleanup and exits; when
// it cannot (it is gone, or dies mid-cleanup), the client runs the Node cleanup, so no task is ever left running.
const BUILD_SCRIPT = fileURLToPath(new URL('../../../../packages/driver/native/build.sh', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../../../packages/driver/dist/native/gitlab-fargate-run', import.meta.url));

/**
 * cleanup_exec for these tests: `node WRAPPER MODE CLIENT ARGS…` finds the job's multiplexer (its command line names
 * the socket of GITLAB_FARGATE_MUX_SOCKET), then runs the client:
 * - `native-only`: with no Node driver to fall back to, so a cleanup that works ran in the multiplexer;
 * - `kill-before`: after killing the multiplexer (SIGKILL) and seeing it gone;
 * - `kill-mid`: and kills the multiplexer once it took the cleanup (its socket is removed as it starts).
 */
const WRAPPER = `
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
const [mode, client, ...args] = process.argv.slice(2);
const socket = process.env.GITLAB_FARGATE_MUX_SOCKET ?? '';
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const read = (file) => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };
const pid = readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).map(Number)
  .find((n) => { const line = read('/proc/' + n + '/cmdline'); return line.includes('internal-ssh-mux') && line.includes(socket); });
if (socket === '' || pid === undefined) { process.stderr.write('wrapper: no multiplexer for ' + socket + '\\n'); process.exit(70); }
const gone = async () => { while (read('/proc/' + pid + '/stat') !== '' && !read('/proc/' + pid + '/stat').split(') ')[1].startsWith('Z')) await tick(); };
const env = { ...process.env };
if (mode === 'native-only') Object.assign(env, { GITLAB_FARGATE_NODE: '/nonexistent/node', GITLAB_FARGATE_DRIVER_SCRIPT: '/nonexistent/cli.js', PATH: '/usr/bin:/bin' });
if (mode === 'kill-before') { process.kill(pid, 'SIGKILL'); await gone(); }
const child = spawn(client, args, { env, stdio: 'inherit' });
const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 70)));
let done = false;
void exited.then(() => (done = true));
if (mode === 'kill-mid') {
  while (existsSync(socket) && !done) await tick();
  process.kill(pid, 'SIGKILL');
  process.stderr.write('wrapper: killed the multiplexer ' + (done ? 'after' : 'during') + ' the cleanup\\n');
}
process.exit(await exited);
`;

type Mode = 'native-only' | 'kill-before' | 'kill-mid';

let stack: LocalStack;
let settings: RunnerSettings;
let dir: string;
let wrapper: string;

useLocalStack((started, runner) => {
  stack = started;
  settings = runner;
});

beforeAll(() => {
  execFileSync(BUILD_SCRIPT, [CLIENT], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'e2e-native-cleanup-'));
  wrapper = join(dir, 'cleanup-wrapper.mjs');
  writeFileSync(wrapper, WRAPPER);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The runner with run_exec the native client, and cleanup_exec the wrapper around it (or the Node driver). */
function runnerWith(mode: Mode | 'node'): RunnerSettings {
  const driverArgs = (args: readonly string[] = []): string[] => args.slice(args.indexOf('--config'));
  const custom = { ...settings.custom, runExec: CLIENT, runArgs: driverArgs(settings.custom.runArgs) };
  if (mode === 'node') return { ...settings, custom };
  const cleanupArgs = [wrapper, mode, CLIENT, ...driverArgs(settings.custom.cleanupArgs)];
  return { ...settings, custom: { ...custom, cleanupExec: process.execPath, cleanupArgs } };
}

async function jobWith(mode: Mode | 'node'): Promise<{ result: JobResult; runnerLog: CapturedLog; log: CapturedLog }> {
  const log = new CapturedLog();
  const runnerLog = new CapturedLog();
  const result = await runJob({
    runner: runnerWith(mode), env: stack.env, log, runnerLog, prepareAttempts: 1,
    job: job({ script: ['echo "hello from $(hostname)"'] }),
  });
  return { result, runnerLog, log };
}

const cleanupCode = (result: JobResult): number | null | undefined => result.timings.find((t) => t.phase === 'cleanup')?.exitCode;
const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };

describe('cleanup_exec = the native client', () => {
  it('has the multiplexer stop the task and remove the state, with no Node driver to fall back to', async () => {
    const { result, runnerLog, log } = await jobWith('native-only');
    expect(result.outcome, log.text).toBe('success');
    expect(cleanupCode(result), runnerLog.text).toBe(0);
    expect(runnerLog.text).toMatch(/cleanup_std=err Stopped task arn:aws:ecs:/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
    expect((await describeAllTasks(stack)).filter((task) => task.lastStatus !== 'STOPPED')).toEqual([]);
  });

  it('stops the task with the Node cleanup when the multiplexer was killed before the cleanup', async () => {
    const { result, runnerLog } = await jobWith('kill-before');
    expect(result.outcome).toBe('success');
    expect(cleanupCode(result), runnerLog.text).toBe(0);
    expect(runnerLog.text).toMatch(/cleanup_std=err Stopped task arn:aws:ecs:/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('still stops the task when the multiplexer is killed mid-cleanup', async () => {
    // The multiplexer's StopTask meets server errors and retries: it is still at it when it is killed.
    stack.emulator.setFaults({ serverError: { count: 3, operations: ['StopTask'] } });
    const { result, runnerLog } = await jobWith('kill-mid');
    expect(result.outcome).toBe('success');
    expect(runnerLog.text).toContain('wrapper: killed the multiplexer during the cleanup');
    expect(runnerLog.text).toContain('the SSH multiplexer did not finish the cleanup: cleaning up with the Node driver');
    expect(cleanupCode(result), runnerLog.text).toBe(0);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('exits with the Node cleanup\'s code when the cleanup fails (StopTask denied)', async () => {
    stack.emulator.setFaults({ accessDenied: { operations: ['StopTask'] } });
    const native = await jobWith('native-only');
    const node = await jobWith('node');
    stack.emulator.setFaults({});
    for (const task of await describeAllTasks(stack)) {
      if (task.lastStatus !== 'STOPPED') await stack.ecs.send(new StopTaskCommand({ cluster: stack.cluster, task: task.taskArn }));
    }
    expect(cleanupCode(native.result), native.runnerLog.text).toBe(2);
    expect(cleanupCode(native.result)).toBe(cleanupCode(node.result));
    for (const { runnerLog } of [native, node]) expect(runnerLog.text).toMatch(/cleanup_std=err .*not authorized to perform: ecs:StopTask/);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});
