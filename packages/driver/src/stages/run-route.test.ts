import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPER_COMMAND_WITH_BUILD_CONTAINER } from '../job-image/build-stage.js';
import { detectShellCommand } from '../job-image/shell-detect.js';
import { type JobState, readState, statePath, writeState } from '../job/state.js';
import type { MuxRequest } from '../ssh/mux/protocol.js';
import type { Connection, ExecResult, Transport, TransportTarget } from '../ssh/transport.js';
import { stageRouter } from './run-route.js';

const state: JobState = {
  version: 1,
  jobId: '5',
  runnerShortToken: 'routetok',
  cluster: 'c',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef',
  address: '127.0.0.9',
  port: 22,
  username: 'root',
  privateKey: 'KEY',
  publicKey: 'PUB',
  hostKey: 'HELPER',
  createdAt: '2026-01-01T00:00:00.000Z',
};
const build = { port: 2222, username: 'gitlab-fargate', hostKey: 'AGENT' };

/** A connection that only says who it is; the router never runs commands itself. */
function connection(name: string): Connection & { closed: boolean; name: string; ended: () => void } {
  const listeners: (() => void)[] = [];
  const self = {
    name,
    closed: false,
    hostKey: name,
    exec: () => Promise.reject(new Error('not used')),
    onClose: (listener: () => void) => listeners.push(listener),
    close: () => {
      self.closed = true;
    },
    ended: () => listeners.forEach((listener) => listener()),
  };
  return self;
}

/** A router over a fresh state file, with a transport that records what the router connected to. */
function setUp(job: JobState = state) {
  const dir = mkdtempSync(join(tmpdir(), 'driver-route-'));
  const path = statePath(join(dir, 'state'), job.runnerShortToken, job.jobId);
  writeState(path, job);
  const targets: TransportTarget[] = [];
  const opened: ReturnType<typeof connection>[] = [];
  const transport: Transport = {
    connect: async (target) => {
      targets.push(target);
      const open = connection(`build-${opened.length + 1}`);
      opened.push(open);
      return open;
    },
  };
  const router = stageRouter({ statePath: path, transport, connectOptions: {} });
  const helper = connection('helper');
  const route = (request: Partial<MuxRequest>) => router.route({ forwardSignal: 'TERM', graceMs: 1_000, ...request }, Promise.resolve(helper));
  return { dir, path, router, route, helper, targets, opened };
}

const exited = (exitCode: number): ExecResult => ({ exitCode, cancelled: false, lost: false });

describe('the multiplexer routing run stages', () => {
  it("sends an image job's user stages to the build container over one connection, the runner's stages to the helper", async () => {
    const { route, helper, targets, opened, router } = setUp({ ...state, build });
    const first = await route({ stage: 'build_script' });
    const second = await route({ stage: 'after_script' });
    const helperStage = await route({ stage: 'get_sources' });
    expect(first).toMatchObject({ command: detectShellCommand(), connection: opened[0] });
    expect(second.connection).toBe(opened[0]);
    expect(targets).toEqual([{ host: '127.0.0.9', port: 2222, username: 'gitlab-fargate', privateKey: 'KEY', hostKey: 'AGENT' }]);
    expect(helperStage).toMatchObject({ command: HELPER_COMMAND_WITH_BUILD_CONTAINER, connection: helper });

    // Once it ended (the build container restarted its sshd, say), the next user stage connects again.
    opened[0]!.ended();
    expect((await route({ stage: 'step_script' })).connection).toBe(opened[1]);
    router.close();
    await expect.poll(() => opened[1]!.closed).toBe(true);
  });

  it('runs a request without a stage as its command in the helper, and records nothing', async () => {
    const { route, helper, path } = setUp();
    const plain = await route({ command: 'echo hi' });
    expect(plain).toMatchObject({ command: 'echo hi', connection: helper });
    expect(plain.settle).toBeUndefined();
    expect(readState(path)?.metrics).toBeUndefined();
  });

  it("records each stage's outcome before answering, and says which exit code it means", async () => {
    const { route, path } = setUp();
    const script = await route({ stage: 'build_script' });
    expect(script.settle?.(exited(0))).toBeUndefined();
    expect(readState(path)?.metrics?.outcome).toEqual({ kind: 'success', stage: 'build_script' });
    expect(script.settle?.(exited(3))).toEqual({ scriptExitCode: 3 });
    expect(readState(path)?.metrics?.outcome).toEqual({ kind: 'script_failure', stage: 'build_script', exitCode: 3 });

    const after = await route({ stage: 'after_script' });
    expect(after.settle?.({ signal: 'KILL', cancelled: false, lost: false })).toEqual({ scriptExitCode: 137 });
    expect(after.settle?.({ cancelled: false, lost: true })).toEqual({
      message: expect.stringMatching(/^the SSH connection to 127\.0\.0\.9:22 ended before the script finished/),
    });
    // A cancel is the client's to report; the outcome still says why the job ended.
    const cancelled = setUp();
    const stage = await cancelled.route({ stage: 'build_script' });
    expect(stage.settle?.({ exitCode: 143, cancelled: true, lost: false })).toBeUndefined();
    expect(readState(cancelled.path)?.metrics?.outcome).toMatchObject({ kind: 'system_failure', reason: 'cancelled' });
  });

  it('refuses a stage it cannot route, so the client falls back to the Node stage (nothing ran)', async () => {
    const noAddress = setUp({ ...state, address: undefined });
    await expect(noAddress.route({ stage: 'build_script' })).rejects.toThrow(/has no reachable task yet/);
    const gone = setUp();
    const { rmSync } = await import('node:fs');
    rmSync(gone.path);
    await expect(gone.route({ stage: 'build_script' })).rejects.toThrow(/is gone/);
  });

  it('ends the last stage with the job summary when the request names the driver TOML', async () => {
    const { route, dir } = setUp();
    const config = join(dir, 'driver.toml');
    writeFileSync(config, '[Fargate]\nCluster = "c"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "t"\n');
    const last = await route({ stage: 'cleanup_file_variables', configPath: config });
    expect(await last.epilogue?.(exited(0))).toMatch(/^Fargate task timeline .*\nFargate cost so far/s);
    expect((await route({ stage: 'cleanup_file_variables' })).epilogue).toBeUndefined();
    expect((await route({ stage: 'build_script', configPath: config })).epilogue).toBeUndefined();
    const broken = await route({ stage: 'cleanup_file_variables', configPath: join(dir, 'missing.toml') });
    expect(await broken.epilogue?.(exited(0))).toMatch(/^gitlab-fargate-driver: could not print the job's timeline and cost: .*missing\.toml/);
  });
});
