import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCiCoordinator,
  dockerAsync,
  finishedAtMs,
  processCommands,
  removeLabelled,
  startDetached,
  waitForExit,
  waitForLog,
} from '../../../test/ci-coordinator.js';
import { connect, exec, type ExecResult } from '../../../test/ssh.js';
import { EXIT_MISCONFIGURED } from './entrypoint.js';
import { IDLE_DEADLINE_PASSED_LOG, IDLE_WATCHDOG_FLAG, IDLE_WATCHDOG_STANDS_DOWN_LOG } from './idle-watchdog.js';
import { CLAIM_COMMAND, IDLE_DEADLINE_VARIABLE } from './pool-contract.js';

/**
 * Seconds from `docker run` to the deadline: enough for the container to start and sshd to listen on a busy
 * 2-core machine, so that the deadline falls while sshd serves (a start after it is a different path, tested apart).
 */
const LEAD_SECONDS = 6;
/** The non-root claim's lead: its test only needs the claim before the deadline, not a race at it. */
const NON_ROOT_LEAD_SECONDS = 20;
/** "Within a few seconds of the deadline": the bound on deadline → container exit. */
const EXIT_WITHIN_MS = 5_000;
/** Rounds of the claim-versus-deadline race, and how many race at once. */
const RACE_ROUNDS = 10;
const RACE_PARALLEL = 5;

const SSHD_LISTENING = /Server listening on 0\.0\.0\.0 port 22/;
const deadlinePassed = new RegExp(`idle deadline \\S+ ${IDLE_DEADLINE_PASSED_LOG}`);
const standsDown = new RegExp(IDLE_WATCHDOG_STANDS_DOWN_LOG);

/**
 * This file's own label value: other test files clean up the package's usual label (`removeOurContainers`), which
 * must not end a container of a race under way when files run side by side.
 */
const LABELS = { 'org.gitlab-fargate.test': 'images-idle-watchdog' };
const labelArgs = Object.entries(LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);

const keys = ssh2.utils.generateKeyPairSync('ed25519');

/** A pool task: the job key and a deadline `leadSeconds` from now; resolves once sshd listens. */
async function startPoolTask(image: string, leadSeconds = LEAD_SECONDS): Promise<{ id: string; port: number; deadline: number }> {
  const deadline = Math.floor(Date.now() / 1000) + leadSeconds;
  const task = await startDetached(image, { SSH_PUBLIC_KEY: keys.public, [IDLE_DEADLINE_VARIABLE]: String(deadline) }, LABELS);
  const log = await waitForLog(task.id, SSHD_LISTENING);
  expect(Date.now(), `sshd listened only after the deadline:\n${log}`).toBeLessThan(deadline * 1000);
  return { ...task, deadline };
}

/** An SSH client that survives its server going away mid-command (the watchdog may stop sshd under it). */
async function sshClient(port: number, username = 'root'): Promise<ssh2.Client> {
  const client = await connect({ host: '127.0.0.1', port, username, privateKey: keys.private });
  client.on('error', () => undefined);
  return client;
}

/** Runs a command; a session cut off before its exit status counts as a failure (code null). */
function tryExec(client: ssh2.Client, command: string): Promise<ExecResult> {
  return exec(client, command).catch((error: Error) => ({ code: null, stdout: '', stderr: error.message }));
}

let image: string;

beforeAll(async () => {
  await removeLabelled(LABELS);
  image = await buildCiCoordinator({}, 'gitlab-fargate-test/ci-coordinator:root');
});

afterAll(() => removeLabelled(LABELS));

describe('ci-coordinator idle watchdog: the deadline and the claim (warm pool)', () => {
  it('stops the container by itself at the deadline when no job claimed the task, and says why', async () => {
    const task = await startPoolTask(image);
    const processes = await processCommands(task.id);
    expect(processes.some((line) => line.includes(`${IDLE_WATCHDOG_FLAG} ${task.deadline}`))).toBe(true);

    const status = await waitForExit(task.id, (LEAD_SECONDS + 30) * 1000);
    const latencyMs = (await finishedAtMs(task.id)) - task.deadline * 1000;
    const log = await dockerAsync(['logs', task.id]);
    console.log(`ci-coordinator: idle deadline → container exit ${latencyMs} ms, exit status ${status}`);
    expect(status).toBe(0);
    expect(latencyMs).toBeGreaterThanOrEqual(0);
    expect(latencyMs).toBeLessThan(EXIT_WITHIN_MS);
    const when = new Date(task.deadline * 1000).toISOString().replace(/\.000Z$/, 'Z');
    expect(log.stderr).toContain(`ci-coordinator: idle deadline ${when} ${IDLE_DEADLINE_PASSED_LOG}\n`);
    // sshd ended on the watchdog's SIGTERM (as on StopTask), not killed.
    expect(log.stderr).toContain('Received signal 15; terminating.');
  });

  it('keeps serving past the deadline once a job claimed the task; a second claim fails', async () => {
    const task = await startPoolTask(image);
    const client = await sshClient(task.port);
    try {
      const claim = await exec(client, CLAIM_COMMAND);
      expect(claim.code, claim.stderr).toBe(0);
      const second = await exec(client, CLAIM_COMMAND);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('File exists');

      const log = await waitForLog(task.id, standsDown, (LEAD_SECONDS + 30) * 1000);
      expect(Date.now()).toBeGreaterThanOrEqual(task.deadline * 1000);
      expect(log).not.toMatch(deadlinePassed);
      const after = await exec(client, 'echo still serving');
      expect(after).toMatchObject({ code: 0, stdout: 'still serving\n' });
      // The watchdog is gone and was reaped (tini adopted it): no process of it, no zombie.
      const processes = await processCommands(task.id);
      expect(processes.filter((line) => line.includes(IDLE_WATCHDOG_FLAG) || / Z\S* /.test(line))).toEqual([]);
    } finally {
      client.end();
    }
  });

  it(`lets exactly one of a claim and the deadline win when they race (${RACE_ROUNDS} rounds)`, async () => {
    const outcomes: string[] = [];
    for (let batch = 0; batch < RACE_ROUNDS / RACE_PARALLEL; batch += 1) {
      const rounds = Array.from({ length: RACE_PARALLEL }, (_, index) => raceRound(image, batch * RACE_PARALLEL + index));
      outcomes.push(...(await Promise.all(rounds)));
    }
    console.log(`ci-coordinator: claim/deadline race outcomes: ${outcomes.join(', ')}`);
    expect(outcomes).toHaveLength(RACE_ROUNDS);
  });
});

describe('ci-coordinator idle watchdog: the container start', () => {

  it('refuses a deadline that is not a decimal epoch second at start, before writing anything', async () => {
    const bad = ['soon', '', '-5', '0', '0123', '1796279221.5', '1796279221000', ' 1796279221', '17962e5'];
    const results = await Promise.all(
      bad.map((value) =>
        dockerAsync([
          'run', '--rm', '--read-only', ...labelArgs,
          '-e', `SSH_PUBLIC_KEY=${keys.public}`, '-e', `${IDLE_DEADLINE_VARIABLE}=${value}`, image,
        ]),
      ),
    );
    results.forEach((result, index) => {
      expect(result.code, bad[index]).toBe(EXIT_MISCONFIGURED);
      expect(result.stderr).toContain(`ci-coordinator: error: ${IDLE_DEADLINE_VARIABLE} is '${bad[index]}', not a time in whole seconds`);
      expect(result.stderr).toContain('ci-coordinator: how to fix: set it to the epoch second');
    });
  });

  it('exits at once, writing nothing, when the deadline passed before sshd could start', async () => {
    const past = Math.floor(Date.now() / 1000) - 1;
    const env = ['-e', `SSH_PUBLIC_KEY=${keys.public}`, '-e', `${IDLE_DEADLINE_VARIABLE}=${past}`];
    const result = await dockerAsync(['run', '--rm', '--read-only', ...labelArgs, ...env, image]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/idle deadline \S+ passed before sshd started, so no job can claim this task: exiting/);
    expect(result.stderr).not.toContain('Server listening');
  });

  it('runs no watchdog without the variable: the process tree is tini and sshd alone', async () => {
    const task = await startDetached(image, { SSH_PUBLIC_KEY: keys.public }, LABELS);
    await waitForLog(task.id, SSHD_LISTENING);
    const processes = await processCommands(task.id);
    expect(processes.map((line) => line.replace(/^\s*\d+\s+\d+\s+\S+\s+/, ''))).toEqual([
      '/usr/bin/tini -- /usr/local/bin/docker-entrypoint.sh',
      expect.stringMatching(/^sshd: \/usr\/sbin\/sshd -D -e \[listener\]/),
    ]);
  });
});

describe('ci-coordinator idle watchdog with a non-root SSH user', () => {
  it('lets that user claim the task, and the task then keeps serving', async () => {
    const image = await buildCiCoordinator({ sshUser: 'ci' }, 'gitlab-fargate-test/ci-coordinator:ci-user');
    // No race here, only a claim well before the deadline: the first container of a freshly built image can take
    // longer than LEAD_SECONDS to listen on a loaded machine.
    const task = await startPoolTask(image, NON_ROOT_LEAD_SECONDS);
    const client = await sshClient(task.port, 'ci');
    try {
      const claim = await exec(client, `${CLAIM_COMMAND} && stat -c '%U %a' /run/gitlab-fargate/claimed`);
      expect(claim.stderr).toBe('');
      expect(claim).toMatchObject({ code: 0, stdout: 'ci 755\n' });
      await waitForLog(task.id, standsDown, (NON_ROOT_LEAD_SECONDS + 30) * 1000);
      expect(await exec(client, 'id -un')).toMatchObject({ code: 0, stdout: 'ci\n' });
    } finally {
      client.end();
      await dockerAsync(['rm', '-f', task.id]);
    }
  });
});

/**
 * One round: a fresh pool task, and the claim sent so that it reaches the container at the deadline (give or take
 * up to 60 ms, a different offset each round). Exactly one side must win: a claim that succeeded means the
 * watchdog stands down and sshd keeps serving; a claim that failed means the container stopped at the deadline.
 */
async function raceRound(image: string, round: number): Promise<string> {
  const task = await startPoolTask(image);
  const client = await sshClient(task.port);
  try {
    const warmUpStart = performance.now();
    await exec(client, 'true');
    const roundTripMs = performance.now() - warmUpStart;
    const offsetMs = ((round % RACE_PARALLEL) - (RACE_PARALLEL - 1) / 2) * 30;
    const sendAt = task.deadline * 1000 - roundTripMs / 2 + offsetMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, sendAt - Date.now())));
    const claim = await tryExec(client, CLAIM_COMMAND);
    if (claim.code === 0) {
      const log = await waitForLog(task.id, standsDown, (LEAD_SECONDS + 30) * 1000);
      expect(log, `round ${round}: the claim won, yet the watchdog stopped the task`).not.toMatch(deadlinePassed);
      expect(await exec(client, 'echo serving'), `round ${round}`).toMatchObject({ code: 0, stdout: 'serving\n' });
      return 'claim';
    }
    const status = await waitForExit(task.id, 30_000);
    const log = await dockerAsync(['logs', task.id]);
    expect(log.stderr, `round ${round}: the claim failed (${claim.stderr}), yet the task did not stop`).toMatch(deadlinePassed);
    expect(status).toBe(0);
    return `deadline (+${(await finishedAtMs(task.id)) - task.deadline * 1000} ms)`;
  } finally {
    client.end();
  }
}
