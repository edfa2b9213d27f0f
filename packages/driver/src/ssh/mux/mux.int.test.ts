import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, type Socket, createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, runCancelledStage, runCli } from '../../../test/cli-process.js';
import { createMuxTestJob, isAlive, muxSpec, useMultiplexers, writeScript } from '../../../test/mux-fixture.js';
import { type Sshd, startSshd } from '../../../test/sshd-fixture.js';
import { deferred } from '../../deferred.js';
import { type JobState, statePath, writeState } from '../../job/state.js';
import { generateJobKeyPair } from '../keys.js';
import { multiplexedTransport } from './client.js';
import { launchMultiplexer, stopMultiplexer } from './launcher.js';
import { MUX_COMMAND, type MuxSpec } from './protocol.js';
import type { MuxRecord } from './record.js';
import { muxSocketPath, removeMuxSocket } from './socket.js';

const TOKEN = 'muxtoken';
const JOB_ID = '777';
/** A loopback port nothing listens on: a state pointing there can only reach the task through the multiplexer. */
const DEAD_PORT = 9;

describe('the job SSH multiplexer (compiled CLI, real sshd)', () => {
  const keys = generateJobKeyPair('mux-test');
  const multiplexers = useMultiplexers();
  let sshd: Sshd;
  let dir: string;
  let config: string;
  let path: string;
  /** The multiplexer's own copy of the state, so the stages' copy can point at a dead port without racing it. */
  let muxStatePath: string;
  let state: JobState;
  let env: Record<string, string>;

  const spec = (overrides: Partial<MuxSpec> = {}): MuxSpec => muxSpec(muxStatePath, { socketPath: muxSocketPath(path), ...overrides });
  const start = (overrides: Partial<MuxSpec> = {}): Promise<MuxRecord> => multiplexers.start(spec(overrides));
  const script = (name: string, text: string): string => writeScript(dir, name, text);
  const remote = (command: string): string => execFileSync('docker', ['exec', sshd.container.getId(), 'bash', '-c', command], { encoding: 'utf8' });

  beforeAll(async () => {
    ensureBuilt();
    sshd = await startSshd(keys.publicKey);
    const job = await createMuxTestJob({ prefix: 'driver-mux-', token: TOKEN, jobId: JOB_ID, sshd, keys, exitCodes: { build: 1, system: 2 }, withTask: true });
    ({ dir, config, path, state, env } = job);
    muxStatePath = statePath(join(dir, 'mux-state'), TOKEN, JOB_ID);
  });
  beforeEach(() => {
    writeState(muxStatePath, state);
    writeState(path, state);
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves run stages on one SSH connection, with exit codes, stderr and a socket only its owner can use', async () => {
    const mux = await start();
    expect(statSync(mux.socket).mode & 0o077).toBe(0);
    expect(readFileSync(`/proc/${mux.pid}/cmdline`, 'utf8')).toContain(MUX_COMMAND);
    // The task's own address is now unreachable: the stages below can only have gone through the multiplexer.
    writeState(path, { ...state, port: DEAD_PORT, mux });

    const ok = await runCli(['--config', config, 'custom', 'run', script('ok.sh', 'echo out\necho err >&2\n'), 'build_script'], { env, cwd: dir });
    expect(ok).toMatchObject({ code: 0, stdout: 'out\n' });
    expect(ok.stderr).toContain('err\n');

    rmSync(env.BUILD_EXIT_CODE_FILE!, { force: true });
    const failed = await runCli(['--config', config, 'custom', 'run', script('fail.sh', 'exit 3\n'), 'build_script'], { env, cwd: dir });
    expect(failed.code).toBe(1);
    expect(readFileSync(env.BUILD_EXIT_CODE_FILE!, 'utf8')).toBe('3\n');

    // Five stages at once, each with its own output, all on the one connection.
    const parallel = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        runCli(['--config', config, 'custom', 'run', script(`p${n}.sh`, `sleep 0.2; seq ${n * 1000}\n`), 'build_script'], { env, cwd: dir }),
      ),
    );
    parallel.forEach((run, i) => {
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${Array.from({ length: (i + 1) * 1000 }, (_, k) => k + 1).join('\n')}\n`);
    });
    // sshd forks one child per connection: the multiplexer's one plus the listener.
    expect(Number(remote('pgrep -c sshd'))).toBe(2);
  });

  it('passes a 1 MiB script intact', async () => {
    const mux = await start();
    writeState(path, { ...state, port: DEAD_PORT, mux });
    const payload = 'x'.repeat(1024 * 1024);
    const run = await runCli(['--config', config, 'custom', 'run', script('big.sh', `cat <<'EOF' | wc -c\n${payload}\nEOF\n`), 'build_script'], {
      env,
      cwd: dir,
    });
    expect(run).toMatchObject({ code: 0, stdout: `${payload.length + 1}\n` });
  });

  it('forwards SIGTERM from the stage to the script, and kills a script whose stage was killed outright', async () => {
    const mux = await start();
    writeState(path, { ...state, port: DEAD_PORT, mux });

    const trapping = script('term.sh', "trap 'echo got-term; exit 9' TERM\necho started\nwhile :; do sleep 0.1; done\n");
    const cancelled = await runCancelledStage(config, trapping, { env, cwd: dir });
    expect(cancelled.code).toBe(2);
    expect(cancelled.stdout).toContain('got-term');
    expect(cancelled.stderr).toMatch(/cancelled by SIGTERM/);

    const marker = `mux-orphan-${process.pid}`;
    const alive = (): string => remote(`pgrep -fc '^${marker}' || true`).trim();
    let killed: Promise<void> | undefined;
    await runCli(['--config', config, 'custom', 'run', script('kill.sh', `echo started\nexec -a ${marker} sleep 300\n`), 'build_script'], {
      env,
      cwd: dir,
      onStdout: (output, child) => {
        if (killed !== undefined || !output.includes('started')) return;
        // Killed once the script's process is there to be left behind, so "none left" below proves something.
        killed = expect.poll(alive, { timeout: 10_000 }).toBe('1').finally(() => child.kill('SIGKILL'));
      },
    });
    await killed;
    await expect.poll(alive, { timeout: 10_000 }).toBe('0');
    // The multiplexer itself lives on for the next stage.
    const next = await runCli(['--config', config, 'custom', 'run', script('next.sh', 'echo next\n'), 'build_script'], { env, cwd: dir });
    expect(next).toMatchObject({ code: 0, stdout: 'next\n' });
  });

  it('kills a script that ignores SIGTERM after the grace period, answers at once, and keeps the connection', async () => {
    const mux = await start();
    writeState(path, { ...state, port: DEAD_PORT, mux });
    const marker = `mux-stubborn-${process.pid}`;
    const alive = (): string => remote(`pgrep -fc '^${marker}' || true`).trim();
    // Its trap only says so: SIGTERM (through sshd and the process group kill) never ends it.
    const stubborn = script('stubborn.sh', `exec -a ${marker} bash -c 'trap "echo ignored-term" TERM; echo started; while :; do sleep 0.1; done'\n`);
    const run = await runCancelledStage(config, stubborn, { env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('ignored-term');
    // Killed: without the kill it runs on after the stage, whose client gave up on the multiplexer.
    await expect.poll(alive, { timeout: 5_000 }).toBe('0');
    expect(run.stderr).toMatch(/did not exit within 10 s of SIGTERM: sending SIGKILL\n[\s\S]*cancelled by SIGTERM/);
    // Answered by the multiplexer after the kill, not given up on by the stage (which says so when it does).
    expect(run.stderr).not.toMatch(/did not answer|giving up/);

    // The same multiplexer, on the same one SSH connection, runs the next stage.
    const next = await runCli(['--config', config, 'custom', 'run', script('after-stubborn.sh', 'echo next\n'), 'build_script'], { env, cwd: dir });
    expect(next).toMatchObject({ code: 0, stdout: 'next\n' });
    expect(isAlive(mux.pid)).toBe(true);
    expect(Number(remote('pgrep -c sshd'))).toBe(2);
  });

  it('connects on its own when the multiplexer is gone, and nothing runs twice', async () => {
    const mux = await start();
    stopMultiplexer(mux);
    await expect.poll(() => isAlive(mux.pid), { timeout: 5_000 }).toBe(false);
    expect(existsSync(mux.socket)).toBe(false);
    writeState(path, { ...state, mux });
    const run = await runCli(['--config', config, '--debug', 'custom', 'run', script('fallback.sh', 'echo once >> /tmp/fallback-count; cat /tmp/fallback-count\n'), 'build_script'], {
      env,
      cwd: dir,
    });
    expect(run).toMatchObject({ code: 0, stdout: 'once\n' });
    expect(run.stderr).toMatch(/multiplexer at .* does not answer: ENOENT; connecting on our own/);
  });

  it('exits when its job state file is removed (cleanup ran) and when the task goes away', async () => {
    const first = await start();
    writeState(path, { ...state, port: DEAD_PORT, mux: first });
    expect(await runCli(['--config', config, 'custom', 'run', script('up1.sh', 'echo up\n'), 'build_script'], { env, cwd: dir })).toMatchObject({ code: 0 });
    rmSync(muxStatePath);
    await expect.poll(() => isAlive(first.pid), { timeout: 10_000 }).toBe(false);
    expect(existsSync(first.socket)).toBe(false);

    writeState(muxStatePath, state);
    const second = await start();
    // Connected once a command went through; then its SSH session goes, as when the task stops.
    writeState(path, { ...state, port: DEAD_PORT, mux: second });
    expect(await runCli(['--config', config, 'custom', 'run', script('up.sh', 'echo up\n'), 'build_script'], { env, cwd: dir })).toMatchObject({ code: 0 });
    remote('pkill -f "[s]shd: root" || true');
    await expect.poll(() => isAlive(second.pid), { timeout: 10_000 }).toBe(false);
    expect(existsSync(second.socket)).toBe(false);
  });

  it('exits after its idle timeout, and when prepare stops it before the task is ready', async () => {
    const idle = await start({ idleTimeoutMs: 500 });
    await expect.poll(() => isAlive(idle.pid), { timeout: 5_000 }).toBe(false);

    const abandoned = launchMultiplexer(CLI, spec());
    abandoned.abort();
    const orphans = () => Number(execFileSync('bash', ['-c', `pgrep -fc '[${MUX_COMMAND[0]}]${MUX_COMMAND.slice(1)}.*${JOB_ID}' || true`], { encoding: 'utf8' }).trim());
    await expect.poll(orphans, { timeout: 5_000 }).toBe(0);
  });

  it('answers "unavailable" to a waiting stage when it cannot connect, so the stage connects on its own, then exits', async () => {
    // The multiplexer's handshake times out while the stage waits on it.
    const silent = await silentPort();
    try {
      writeState(muxStatePath, { ...state, port: silent.port });
      const mux = await start({ connectTimeoutMs: 1_500 });
      writeState(path, { ...state, mux });
      const run = await runCli(['--config', config, '--debug', 'custom', 'run', script('own.sh', 'echo on-our-own\n'), 'build_script'], { env, cwd: dir });
      expect(run).toMatchObject({ code: 0, stdout: 'on-our-own\n' });
      expect(run.stderr).toMatch(/multiplexer at .* does not answer: .*timed out waiting for the SSH handshake.*; connecting on our own/);
      await expect.poll(() => isAlive(mux.pid), { timeout: 5_000 }).toBe(false);
      expect(existsSync(mux.socket)).toBe(false);
    } finally {
      silent.close();
    }
  });

  it('refuses a task whose host key differs from the pinned one: nothing runs, the stage hears why, and it exits', async () => {
    // A real ed25519 key that is not sshd's host key, pinned as if first contact had seen it.
    const otherKey = generateJobKeyPair('not-the-host').publicKey.split(' ')[1]!;
    // The multiplexer's handshake is held until the command below waits on it, so its answer carries the refusal.
    const held = await heldProxy(sshd.port);
    try {
      writeState(muxStatePath, { ...state, port: held.port, hostKey: otherKey });
      const mux = await start();
      const connection = await multiplexedTransport(mux.socket).connect({ host: sshd.host, port: held.port, username: 'root', privateKey: keys.privateKey });
      const marker = `/tmp/unpinned-${process.pid}`;
      const sink = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });
      const result = connection.exec('bash -s', { stdin: `touch ${marker}\n`, stdout: sink(), stderr: sink() });
      await held.connected;
      held.release();
      await expect(result).rejects.toThrow(/multiplexer at .* does not answer: the SSH host key of .* changed since first contact .*refusing to connect/);
      expect(remote(`test -e ${marker} && echo ran || echo not-run`).trim()).toBe('not-run');
      await expect.poll(() => isAlive(mux.pid), { timeout: 5_000 }).toBe(false);
    } finally {
      held.close();
    }
  });

  it('delivers every byte of a slowly read stdout and the tail of stderr before the result', async () => {
    const mux = await start();
    const connection = await multiplexedTransport(mux.socket).connect({ host: sshd.host, port: sshd.port, username: 'root', privateKey: keys.privateKey });
    let stdoutBytes = 0;
    let stderrText = '';
    // A reader that takes its time: the multiplexer's frames back up behind it while the script has long finished.
    const slowStdout = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        stdoutBytes += chunk.length;
        setTimeout(callback, 20);
      },
    });
    const stderr = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        stderrText += chunk.toString();
        callback();
      },
    });
    const result = await connection.exec('bash -s', {
      stdin: 'head -c 2000000 /dev/zero\necho stderr-tail >&2\nexit 0\n',
      stdout: slowStdout,
      stderr,
    });
    expect(result).toMatchObject({ exitCode: 0, cancelled: false, lost: false });
    await finished(slowStdout.end()); // what reached the reader, once it caught up
    expect(stdoutBytes).toBe(2_000_000);
    expect(stderrText).toBe('stderr-tail\n');
  });

  it('starts nothing for a stage cancelled while it waited for the connection', async () => {
    const silent = await silentPort();
    try {
      writeState(muxStatePath, { ...state, port: silent.port });
      // Its handshake cannot finish while this test runs: the stage's command is still waiting when cancelled.
      const mux = await start({ connectTimeoutMs: 120_000 });
      writeState(path, { ...state, mux });
      const marker = `/tmp/never-${process.pid}`;
      const run = await runCli(['--config', config, '--debug', 'custom', 'run', script('never.sh', `touch ${marker}\n`), 'build_script'], {
        env,
        cwd: dir,
        // Cancelled as it hands the script to the multiplexer (its signal handlers are set by then).
        onSpawn: signalOnStderr('executing the script in the job container', 'SIGTERM'),
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/cancelled by SIGTERM/);
      // Answered by the multiplexer at once: not given up on after the grace period and tried on its own connection.
      expect(run.stderr).not.toMatch(/connecting on our own/);
      expect(isAlive(mux.pid)).toBe(true);
      expect(remote(`test -e ${marker} && echo ran || echo not-run`).trim()).toBe('not-run');
    } finally {
      silent.close();
    }
  });

  it('keeps a socket whose path beside the state file is too long in a private temp folder, removed with it', () => {
    const socket = muxSocketPath(join('/var/lib/gitlab-fargate', 'x'.repeat(120), 'token-0123456789abcdef.json'));
    expect(socket).toMatch(/\/gitlab-fargate-mux-[^/]+\/mux\.sock$/);
    expect(statSync(dirname(socket)).mode & 0o777).toBe(0o700);
    removeMuxSocket(socket);
    expect(existsSync(dirname(socket))).toBe(false);
    expect(muxSocketPath(path)).toBe(path.replace(/\.json$/, '.sock'));
  });

  it('is refused when started by hand', async () => {
    const run = await runCli([MUX_COMMAND], { env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${MUX_COMMAND} is started by 'custom prepare', not by hand`);
  });
});

/** An `onSpawn` for runCli that sends `signal` to the CLI once its stderr contains `text`. */
function signalOnStderr(text: string, signal: NodeJS.Signals): (child: ChildProcess) => void {
  return (child) => {
    let seen = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const before = seen;
      seen += chunk.toString();
      if (!before.includes(text) && seen.includes(text)) child.kill(signal);
    });
  };
}

/** A loopback port that accepts connections and never says a word (an SSH handshake there times out). */
async function silentPort(): Promise<{ readonly port: number; close(): void }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/**
 * A loopback port whose connections reach `targetPort` only after `release()`: what a client sends meanwhile waits.
 * `connected` resolves when the first connection arrived.
 */
async function heldProxy(
  targetPort: number,
): Promise<{ readonly port: number; readonly connected: Promise<void>; release(): void; close(): void }> {
  const sockets: Socket[] = [];
  let released = false;
  const arrived = deferred<void>();
  const forward = (client: Socket): void => {
    const upstream = createConnection(targetPort, '127.0.0.1');
    sockets.push(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  };
  const held: Socket[] = [];
  const server = createServer((client) => {
    sockets.push(client);
    client.pause();
    if (released) forward(client);
    else held.push(client);
    arrived.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connected: arrived.promise,
    release: () => {
      released = true;
      for (const client of held.splice(0)) forward(client);
    },
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
