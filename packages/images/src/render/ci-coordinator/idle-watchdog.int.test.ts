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
import { poolTaskSetUpBudgetMs, SSHD_LISTENING, startPoolTask, type PoolTask } from '../../../test/pool-task.js';
import { connect, ed25519KeyPair, exec, type ExecResult } from '../../../test/ssh.js';
import { EXIT_MISCONFIGURED } from './entrypoint.js';
import { IDLE_DEADLINE_PASSED_LOG, IDLE_WATCHDOG_FLAG, IDLE_WATCHDOG_STANDS_DOWN_LOG } from './idle-watchdog.js';
import { CLAIM_COMMAND, IDLE_DEADLINE_VARIABLE } from './pool-contract.js';

/**
 * Seconds from `docker run` to the deadline on the first try: enough for the container to start and sshd to listen
 * on a busy 2-core machine, so that the deadline falls while sshd serves (a start after it is a different path,
 * tested apart). A set-up that proves slower is retried with a longer lead (`startPoolTask`), not failed.
 */
const LEAD_SECONDS = 6;
/** The non-root claim's lead: its test only needs the claim before the deadline, not a race at it. */
const NON_ROOT_LEAD_SECONDS = 20;
/** A test's own steps after its set-up (a claim, the wait past the deadline, the container's exit). */
const AFTER_SET_UP_MS = 60_000;
/** "Within a few seconds of the deadline": the bound on deadline → container exit. */
const EXIT_WITHIN_MS = 5_000;
/** Rounds of the claim-versus-deadline race, and how many race at once. */
const RACE_ROUNDS = 10;
const RACE_PARALLEL = 5;

const deadlinePassed = new RegExp(`idle deadline \\S+ ${IDLE_DEADLINE_PASSED_LOG}`);
const standsDown = new RegExp(IDLE_WATCHDOG_STANDS_DOWN_LOG);

/**
 * This file's own label value: other test files clean up the package's usual label (`removeOurContainers`), which
 * must not end a container of a race under way when files run side by side.
 */
const LABELS = { 'org.gitlab-fargate.test': 'images-idle-watchdog' };
const labelArgs = Object.entries(LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);

const keys = ed25519KeyPair();

/** A pool task of `image` with the job key, `prepare` done before its deadline (see `startPoolTask`). */
function poolTask<T>(
  image: string,
  prepare: (task: PoolTask) => Promise<T>,
  options: { leadSeconds?: number; marginMs?: (prepared: T) => number } = {},
): Promise<{ task: PoolTask; prepared: T }> {
  const { leadSeconds = LEAD_SECONDS, marginMs } = options;
  const env = { SSH_PUBLIC_KEY: keys.public };
  return startPoolTask({ image, env, labels: LABELS, leadSeconds, prepare, ...(marginMs ? { marginMs } : {}) });
}

/** Milliseconds from now to a task's deadline, plus the time a test's steps after it may take. */
const pastDeadlineMs = (task: PoolTask): number => Math.max(0, task.deadline * 1000 - Date.now()) + AFTER_SET_UP_MS;
/** A test's timeout: its set-ups' budget (every retry) and its own steps. */
const POOL_TEST_TIMEOUT_MS = poolTaskSetUpBudgetMs(LEAD_SECONDS) + 2 * AFTER_SET_UP_MS;

/** The container's processes once sshd's accept loop has renamed it "[listener]"; fails after 60 s with the list. */
async function listenerProcesses(id: string): Promise<string[]> {
  const until = Date.now() + 60_000;
  for (;;) {
    const processes = await processCommands(id);
    if (processes.some((line) => line.includes('[listener]'))) return processes;
    if (Date.now() > until) throw new Error(`sshd never showed "[listener]" within 60 s:\n${processes.join('\n')}`);
    // A poll interval, not a wait for an assumed duration: the next look decides.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
    // The process list is taken well before the deadline: the watchdog is gone after it.
    const { task, prepared: processes } = await poolTask(image, (started) => processCommands(started.id));
    expect(processes.some((line) => line.includes(`${IDLE_WATCHDOG_FLAG} ${task.deadline}`)), processes.join('\n')).toBe(true);

    const status = await waitForExit(task.id, pastDeadlineMs(task));
    const latencyMs = (await finishedAtMs(task.id)) - task.deadline * 1000;
    const log = await dockerAsync(['logs', task.id]);
    console.log(`ci-coordinator: idle deadline → container exit ${latencyMs} ms, exit status ${status}`);
    expect(status, log.stderr).toBe(0);
    // Docker's own exit time against the deadline: no test-side delay (docker wait, the CLI) is in this figure.
    expect(latencyMs, log.stderr).toBeGreaterThanOrEqual(0);
    expect(latencyMs, log.stderr).toBeLessThan(EXIT_WITHIN_MS);
    const when = new Date(task.deadline * 1000).toISOString().replace(/\.000Z$/, 'Z');
    expect(log.stderr).toContain(`ci-coordinator: idle deadline ${when} ${IDLE_DEADLINE_PASSED_LOG}\n`);
    // sshd ended on the watchdog's SIGTERM (as on StopTask), not killed.
    expect(log.stderr).toContain('Received signal 15; terminating.');
  }, POOL_TEST_TIMEOUT_MS);

  it('keeps serving past the deadline once a job claimed the task; a second claim fails', async () => {
    // The claim is part of the set-up: one the deadline beat on a slow machine is retried with a longer lead.
    const { task, prepared } = await poolTask(image, async (started) => {
      const client = await sshClient(started.port);
      return { client, claim: await tryExec(client, CLAIM_COMMAND) };
    });
    const { client, claim } = prepared;
    try {
      expect(claim.code, claim.stderr).toBe(0);
      const second = await exec(client, CLAIM_COMMAND);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('File exists');

      const log = await waitForLog(task.id, standsDown, pastDeadlineMs(task));
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
  }, POOL_TEST_TIMEOUT_MS);

  it(`lets exactly one of a claim and the deadline win when they race (${RACE_ROUNDS} rounds)`, async () => {
    const outcomes: string[] = [];
    for (let batch = 0; batch < RACE_ROUNDS / RACE_PARALLEL; batch += 1) {
      const rounds = Array.from({ length: RACE_PARALLEL }, (_, index) => raceRound(image, batch * RACE_PARALLEL + index));
      outcomes.push(...(await Promise.all(rounds)));
    }
    console.log(`ci-coordinator: claim/deadline race outcomes: ${outcomes.join(', ')}`);
    expect(outcomes).toHaveLength(RACE_ROUNDS);
  }, (RACE_ROUNDS / RACE_PARALLEL) * POOL_TEST_TIMEOUT_MS);
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
    // sshd logs that it listens a moment before it renames itself "[listener]" in its accept loop: wait for that too.
    const processes = await listenerProcesses(task.id);
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
    const claimAsCi = `${CLAIM_COMMAND} && stat -c '%U %a' /run/gitlab-fargate/claimed`;
    const { task, prepared } = await poolTask(
      image,
      async (started) => {
        const client = await sshClient(started.port, 'ci');
        return { client, claim: await tryExec(client, claimAsCi) };
      },
      { leadSeconds: NON_ROOT_LEAD_SECONDS },
    );
    const { client, claim } = prepared;
    try {
      expect(claim.stderr).toBe('');
      expect(claim).toMatchObject({ code: 0, stdout: 'ci 755\n' });
      await waitForLog(task.id, standsDown, pastDeadlineMs(task));
      expect(await exec(client, 'id -un')).toMatchObject({ code: 0, stdout: 'ci\n' });
    } finally {
      client.end();
      await dockerAsync(['rm', '-f', task.id]);
    }
  }, poolTaskSetUpBudgetMs(NON_ROOT_LEAD_SECONDS) + 2 * AFTER_SET_UP_MS);
});

/**
 * One round: a fresh pool task, and the claim sent so that it reaches the container at the deadline (give or take
 * up to 60 ms, a different offset each round). Exactly one side must win: a claim that succeeded means the
 * watchdog stands down and sshd keeps serving; a claim that failed means the container stopped at the deadline.
 * The set-up (login and a round trip) must leave at least a second before the claim is due, else it is retried with a
 * longer lead: a claim that could only be sent late would not race the deadline. Each outcome says how late the claim
 * left against its planned time (the event loop's timer under load).
 */
async function raceRound(image: string, round: number): Promise<string> {
  const { task, prepared } = await poolTask(
    image,
    async (started) => {
      const client = await sshClient(started.port);
      const warmUpStart = performance.now();
      await exec(client, 'true');
      return { client, roundTripMs: performance.now() - warmUpStart };
    },
    { marginMs: ({ roundTripMs }) => 1_000 + roundTripMs / 2 },
  );
  const { client, roundTripMs } = prepared;
  try {
    const offsetMs = ((round % RACE_PARALLEL) - (RACE_PARALLEL - 1) / 2) * 30;
    const sendAt = task.deadline * 1000 - roundTripMs / 2 + offsetMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, sendAt - Date.now())));
    const sent = `lead ${task.leadSeconds} s, sent ${Math.round(Date.now() - sendAt)} ms after plan`;
    const claim = await tryExec(client, CLAIM_COMMAND);
    if (claim.code === 0) {
      const log = await waitForLog(task.id, standsDown, pastDeadlineMs(task));
      expect(log, `round ${round}: the claim won, yet the watchdog stopped the task`).not.toMatch(deadlinePassed);
      expect(await exec(client, 'echo serving'), `round ${round}`).toMatchObject({ code: 0, stdout: 'serving\n' });
      return `claim (${sent})`;
    }
    const status = await waitForExit(task.id, pastDeadlineMs(task));
    const log = await dockerAsync(['logs', task.id]);
    expect(log.stderr, `round ${round}: the claim failed (${claim.stderr}), yet the task did not stop`).toMatch(deadlinePassed);
    expect(status, log.stderr).toBe(0);
    return `deadline (+${(await finishedAtMs(task.id)) - task.deadline * 1000} ms, ${sent})`;
  } finally {
    client.end();
  }
}
