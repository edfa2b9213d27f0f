import { AccessDeniedException, ECSClient, InvalidParameterException, StopTaskCommand } from '@aws-sdk/client-ecs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/context.js';
import type { AwsClients } from '../aws/clients.js';
import { type JobState, readState, writeState } from '../job/state.js';
import { MUX_COMMAND } from '../ssh/mux/protocol.js';
import { cleanupStage } from './cleanup.js';
import { jobStatePath } from './context.js';

const ecsMock = mockClient(ECSClient);
const clients: AwsClients = { ecs: new ECSClient({ region: 'us-east-1' }), ec2: async () => new EC2Client({ region: 'us-east-1' }) };
const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const noSleep = async () => {};

const STATE: JobState = {
  version: 1,
  jobId: '42',
  runnerShortToken: 'abc123xyz',
  cluster: 'ci',
  taskArn: ARN,
  port: 22,
  username: 'root',
  privateKey: 'k',
  publicKey: 'p',
  createdAt: '2026-11-28T09:00:00.000Z',
};

beforeEach(() => ecsMock.reset());

describe('cleanup', () => {
  it('stops the task with a reason and removes the state (and key); a second run finds nothing to do', async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    const { ctx, progress } = testContext();
    writeState(jobStatePath(ctx), STATE);
    await cleanupStage(ctx, { clients, sleep: noSleep });
    expect(ecsMock).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'ci', task: ARN, reason: 'gitlab-fargate: job 42 finished (cleanup)' });
    expect(readState(jobStatePath(ctx))).toBeUndefined();
    await cleanupStage(ctx, { clients, sleep: noSleep });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(progress.lines).toEqual([`Stopped task ${ARN}\n`, 'No state for job 42: nothing to clean up\n']);
  });

  it('retries throttling, and counts a task that is already gone as stopped', async () => {
    ecsMock
      .on(StopTaskCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .rejects(new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} }));
    const { ctx, progress } = testContext();
    writeState(jobStatePath(ctx), STATE);
    await cleanupStage(ctx, { clients, sleep: noSleep });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 2);
    expect(progress.lines).toEqual([`Task ${ARN} was already gone\n`]);
    expect(readState(jobStatePath(ctx))).toBeUndefined();
  });

  it('after a prepare that never started a task: removes the state without calling AWS', async () => {
    const { ctx } = testContext();
    const { taskArn: _none, ...withoutTask } = STATE;
    writeState(jobStatePath(ctx), withoutTask);
    await cleanupStage(ctx, { clients, sleep: noSleep });
    expect(ecsMock.calls()).toHaveLength(0);
    expect(readState(jobStatePath(ctx))).toBeUndefined();
  });

  it('fails when StopTask is refused, but still removes the private key', async () => {
    ecsMock.on(StopTaskCommand).rejects(new AccessDeniedException({ message: 'not authorized to perform: ecs:StopTask', $metadata: {} }));
    const { ctx } = testContext();
    writeState(jobStatePath(ctx), STATE);
    await expect(cleanupStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/StopTask .* failed: AccessDeniedException/);
    expect(readState(jobStatePath(ctx))).toBeUndefined();
  });

  it('ignores cancellation: it runs precisely to free the task after a cancel', async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const { ctx } = testContext({ signal: controller.signal });
    writeState(jobStatePath(ctx), STATE);
    await cleanupStage(ctx, { clients, sleep: noSleep });
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 1);
  });

  it('removes a damaged state file (it may hold the private key) and fails saying so', async () => {
    const { ctx } = testContext();
    const path = jobStatePath(ctx);
    writeState(path, STATE);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"port": 22', '"port": "22"'));
    await expect(cleanupStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(
      `the job state file ${path} is damaged (port must be an integer): removed it (it may hold the job's private key); its task, if any, is left to gc`,
    );
    expect(existsSync(path)).toBe(false);
    expect(ecsMock.calls()).toHaveLength(0);
    await cleanupStage(ctx, { clients, sleep: noSleep });
  });

  it('removes a symbolic link at the state path without touching what it points to', async () => {
    const { ctx } = testContext();
    const path = jobStatePath(ctx);
    writeState(path, STATE);
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'driver-elsewhere-')), 'state.json');
    writeFileSync(elsewhere, JSON.stringify(STATE));
    rmSync(path);
    symlinkSync(elsewhere, path);
    await expect(cleanupStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/is a symbolic link, which the driver never follows: removed it/);
    expect(existsSync(path)).toBe(false);
    expect(JSON.parse(readFileSync(elsewhere, 'utf8'))).toEqual(STATE);
    expect(ecsMock).toHaveReceivedCommandTimes(StopTaskCommand, 0);
  });

  it('touches nothing in a state directory that others may write', async () => {
    const { ctx } = testContext();
    const path = jobStatePath(ctx);
    writeState(path, STATE);
    chmodSync(dirname(path), 0o777);
    await expect(cleanupStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(/refusing the job state directory .* it is writable by group or others/);
    expect(existsSync(path)).toBe(true);
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

describe('cleanup: what it stops, where, and for how long', () => {
  it('stops the job\'s SSH multiplexer and removes its socket, also when prepare never started a task', async () => {
    const { ctx } = testContext();
    const socket = join(dirname(jobStatePath(ctx)), 'job.sock');
    // A process that looks like the job's multiplexer: its command line names the command and the socket.
    const mux = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)', MUX_COMMAND, JSON.stringify({ socket })], { stdio: 'ignore' });
    const exited = once(mux, 'exit');
    await once(mux, 'spawn');
    const { taskArn: _none, ...withoutTask } = STATE;
    writeState(jobStatePath(ctx), { ...withoutTask, mux: { pid: mux.pid as number, socket } });
    writeFileSync(socket, '');
    await cleanupStage(ctx, { clients, sleep: noSleep });
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(jobStatePath(ctx))).toBe(false);
  });

  it('asks the region the task runs in, else the configured one', async () => {
    ecsMock.on(StopTaskCommand).resolves({});
    const regionAsked = async (state: JobState): Promise<string> => {
      ecsMock.resetHistory();
      const { ctx } = testContext();
      writeState(jobStatePath(ctx), state);
      await cleanupStage(ctx, { sleep: noSleep });
      return (ecsMock.call(0).thisValue as ECSClient).config.region();
    };
    expect(await regionAsked({ ...STATE, region: 'eu-west-1' })).toBe('eu-west-1');
    expect(await regionAsked(STATE)).toBe('us-east-1');
  });

  it('retries StopTask within [Timeouts] StopTask, then fails naming the task', async () => {
    ecsMock.on(StopTaskCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    // No real pauses: the attempts end when the next back-off (0.25 s, doubling) would pass the 5 s deadline.
    const { ctx } = testContext({ extra: 'StopTask = 5' });
    writeState(jobStatePath(ctx), STATE);
    await expect(cleanupStage(ctx, { clients, sleep: noSleep })).rejects.toThrow(`StopTask ${ARN} failed: ThrottlingException`);
    expect(ecsMock.commandCalls(StopTaskCommand).length).toBeGreaterThanOrEqual(5);
    expect(existsSync(jobStatePath(ctx))).toBe(false);
  });
});
