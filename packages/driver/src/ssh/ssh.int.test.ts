import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sshd, startSshd } from '../../test/sshd-fixture.js';
import { HostKeyMismatch, SshConnectError, sshTransport } from './connect.js';
import { SCRIPT_COMMAND } from './exec.js';
import { generateJobKeyPair } from './keys.js';
import { waitUntilReachable } from './readiness.js';
import type { ExecResult, TransportTarget } from './transport.js';

/** Collects a stream's bytes, with the time each chunk arrived. */
function sink(): Writable & { chunks: { at: number; data: Buffer }[]; text(): string; buffer(): Buffer } {
  const chunks: { at: number; data: Buffer }[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push({ at: Date.now(), data: Buffer.from(chunk) });
      cb();
    },
  });
  return Object.assign(w, {
    chunks,
    buffer: () => Buffer.concat(chunks.map((c) => c.data)),
    text: () => Buffer.concat(chunks.map((c) => c.data)).toString('utf8'),
  });
}

describe('SSH transport against a real sshd', () => {
  const keys = generateJobKeyPair('driver-test');
  let sshd: Sshd;
  let target: TransportTarget;

  beforeAll(async () => {
    sshd = await startSshd(keys.publicKey);
    target = { host: sshd.host, port: sshd.port, username: 'root', privateKey: keys.privateKey };
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  async function run(script: string | Buffer, pinned?: string, cancel?: AbortSignal) {
    const connection = await sshTransport.connect({ ...target, hostKey: pinned });
    const stdout = sink();
    const stderr = sink();
    try {
      const result: ExecResult = await connection.exec(SCRIPT_COMMAND, { stdin: script, stdout, stderr, cancel, graceMs: 5_000 });
      return { result, stdout, stderr, hostKey: connection.hostKey };
    } finally {
      connection.close();
    }
  }

  it('runs a script read from stdin and reports its exit code, keeping stdout and stderr apart', async () => {
    const { result, stdout, stderr, hostKey } = await run('echo out; echo err >&2; exit 3\n');
    expect(result).toEqual({ exitCode: 3, signal: undefined, cancelled: false, lost: false });
    expect(stdout.text()).toBe('out\n');
    expect(stderr.text()).toBe('err\n');
    expect(hostKey).toMatch(/^AAAA[A-Za-z0-9+/=]+$/);
  });

  it('accepts the pinned host key and refuses a changed one', async () => {
    const first = await run('true\n');
    const pinned = await run('echo again\n', first.hostKey);
    expect(pinned.result.exitCode).toBe(0);
    expect(pinned.stdout.text()).toBe('again\n');

    const other = await startSshd(keys.publicKey);
    try {
      const promise = sshTransport.connect({ host: other.host, port: other.port, username: 'root', privateKey: keys.privateKey, hostKey: first.hostKey });
      await expect(promise).rejects.toBeInstanceOf(HostKeyMismatch);
      await expect(promise).rejects.toThrow(/host key .* changed since first contact/);
    } finally {
      await other.stop();
    }
  });

  it('refuses a key the container does not authorize, saying so', async () => {
    const stranger = generateJobKeyPair('stranger');
    await expect(sshTransport.connect({ ...target, privateKey: stranger.privateKey })).rejects.toThrow(
      /refused the job key/,
    );
  });

  it('runs a 1 MiB script (no argv limit)', async () => {
    const payload = 'x'.repeat(1024 * 1024);
    const script = `X='${payload}'\nprintf %s "$X" | sha256sum | cut -d' ' -f1\necho "\${#X}"\n`;
    expect(Buffer.byteLength(script)).toBeGreaterThan(1024 * 1024);
    const { result, stdout } = await run(script);
    expect(result.exitCode).toBe(0);
    const expected = createHash('sha256').update(payload).digest('hex');
    expect(stdout.text()).toBe(`${expected}\n${1024 * 1024}\n`);
  });

  it('ends cleanly when the script exits before bash has read all of it', async () => {
    const script = `echo early\nexit 3\n# ${'padding '.repeat(256 * 1024)}\n`;
    const { result, stdout } = await run(script);
    expect(result).toEqual({ exitCode: 3, signal: undefined, cancelled: false, lost: false });
    expect(stdout.text()).toBe('early\n');
  });

  it('streams output as it is produced, not at the end', async () => {
    // The script goes on only once the test saw its first line: output held back until the end would make it
    // give up waiting and say so.
    const go = `/tmp/go-${process.pid}-${Date.now()}`;
    const stdout = new PassThrough();
    let seen = '';
    stdout.on('data', (chunk: Buffer) => {
      const before = seen;
      seen += chunk.toString();
      if (!before.includes('first\n') && seen.includes('first\n')) run(`touch ${go}\n`).catch(() => undefined);
    });
    const connection = await sshTransport.connect(target);
    try {
      const script = `echo first\nfor _ in $(seq 200); do [ -e ${go} ] && break; sleep 0.05; done\n[ -e ${go} ] && echo second || echo no-go\n`;
      const result = await connection.exec(SCRIPT_COMMAND, { stdin: script, stdout, stderr: sink() });
      expect(result.exitCode).toBe(0);
      expect(seen).toBe('first\nsecond\n');
    } finally {
      connection.close();
    }
  });

  it('passes 50 MiB of output through intact and in order', async () => {
    const size = 50 * 1024 * 1024;
    const script = `head -c ${size} /dev/urandom > /tmp/blob\nsha256sum /tmp/blob | cut -d' ' -f1 >&2\ncat /tmp/blob\n`;
    const started = Date.now();
    const { result, stdout, stderr } = await run(script);
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(0);
    const out = stdout.buffer();
    expect(out.length).toBe(size);
    expect(createHash('sha256').update(out).digest('hex')).toBe(stderr.text().trim());
    console.info(`50 MiB through SSH in ${seconds.toFixed(2)} s (${(50 / seconds).toFixed(1)} MiB/s)`);
  });

  it('forwards cancellation to the remote script as SIGTERM', async () => {
    await expectCancellationReachesScript(target);
  });

  it('kills a remote script that ignores the signal once the grace period is over', async () => {
    const controller = new AbortController();
    const connection = await sshTransport.connect(target);
    // Cancelled once the trap is set (the script says so); had the driver waited for the script, it would have
    // ended with exit code 0 after 30 s instead of being killed.
    const stdout = new PassThrough();
    stdout.on('data', (chunk: Buffer) => chunk.toString().includes('trapped') && controller.abort());
    const stderr = sink();
    const result = await connection.exec(SCRIPT_COMMAND, {
      stdin: "trap '' TERM\necho trapped\nsleep 30\n",
      stdout,
      stderr,
      cancel: controller.signal,
      graceMs: 500,
    });
    expect(result).toMatchObject({ cancelled: true, signal: 'KILL', lost: false });
    expect(result.exitCode).toBeUndefined();
    expect(stderr.text()).toBe('gitlab-fargate-driver: the remote command did not exit within 0.5 s of SIGTERM: sending SIGKILL\n');
  });

  it('gives up on a channel that even SIGKILL leaves open, and its shared connection runs the next command', async () => {
    const controller = new AbortController();
    const connection = await sshTransport.connect(target, { shared: true });
    const stdout = new PassThrough();
    stdout.on('data', (chunk: Buffer) => chunk.toString().includes('trapped') && controller.abort());
    // A process in a session of its own, out of the kill's reach, holds the channel's output open: sshd keeps the
    // channel open as long as it lives, longer than this test's timeout.
    const held = 'driver-held-output';
    const script = `trap '' TERM\nsetsid bash -c 'exec -a ${held} sleep 300' &\necho trapped\nsleep 300\n`;
    const cancel = controller.signal;
    const result = await connection.exec(SCRIPT_COMMAND, { stdin: script, stdout, stderr: sink(), cancel, graceMs: 500 });
    expect(result).toMatchObject({ cancelled: true });
    expect(result.exitCode).toBeUndefined();
    const next = sink();
    const after = await connection.exec(SCRIPT_COMMAND, { stdin: `pkill -f '^${held}'; echo next\n`, stdout: next, stderr: sink() });
    expect(after).toMatchObject({ exitCode: 0 });
    expect(next.text()).toBe('next\n');
    connection.close();
  });

  it('waits for an sshd that starts after the container (readiness probe)', async () => {
    const late = await startSshd(keys.publicKey, { sshdDelaySeconds: 2 });
    try {
      const errors: string[] = [];
      const started = Date.now();
      const connection = await waitUntilReachable(
        sshTransport,
        { host: late.host, port: late.port, username: 'root', privateKey: keys.privateKey },
        { deadlineMs: 20_000, minDelayMs: 200, maxDelayMs: 500, onRetry: (_n, e) => errors.push(e.message) },
      );
      connection.close();
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatch(/SSH connection to root@127\.0\.0\.1/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await late.stop();
    }
  });

  it('gives up at the readiness deadline with the last error', async () => {
    await expect(
      waitUntilReachable(sshTransport, { ...target, port: 1 }, { deadlineMs: 1_500, minDelayMs: 200, maxDelayMs: 200 }),
    ).rejects.toThrow(/did not accept SSH within 2 s .*connection refused/);
  });

  it('reports a refused port as a retryable connect error', async () => {
    const refused = sshTransport.connect({ ...target, port: 1 });
    await expect(refused).rejects.toBeInstanceOf(SshConnectError);
    // Not a handshake timeout, which is an SshConnectError too.
    await expect(refused).rejects.toThrow(/root@127\.0\.0\.1:1 failed: connection refused/);
  });
});

describe('SSH transport behind a ForceCommand wrapper (as in the ci-coordinator image)', () => {
  const keys = generateJobKeyPair('driver-test-forced');
  let sshd: Sshd;
  let target: TransportTarget;

  beforeAll(async () => {
    sshd = await startSshd(keys.publicKey, { forceCommand: true });
    target = { host: sshd.host, port: sshd.port, username: 'root', privateKey: keys.privateKey };
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('runs the script through the wrapper with its exit code', async () => {
    const connection = await sshTransport.connect(target);
    const stdout = sink();
    try {
      const result = await connection.exec(SCRIPT_COMMAND, { stdin: 'echo "forced=${SSH_ORIGINAL_COMMAND:-unset}"\nexit 5\n', stdout, stderr: sink() });
      expect(result.exitCode).toBe(5);
      expect(stdout.text()).toBe('forced=unset\n');
    } finally {
      connection.close();
    }
  });

  it('still delivers cancellation, which sshd refuses to signal for forced sessions', async () => {
    await expectCancellationReachesScript(target);
  });
});

/** Cancels a script once it has started: its TERM trap must run and its exit code come back. */
async function expectCancellationReachesScript(target: TransportTarget): Promise<void> {
  const controller = new AbortController();
  const stdout = new PassThrough();
  let seen = '';
  stdout.on('data', (d: Buffer) => {
    seen += d.toString();
    if (seen.includes('started')) controller.abort();
  });
  const connection = await sshTransport.connect(target);
  try {
    const result = await connection.exec(SCRIPT_COMMAND, {
      stdin: "trap 'echo got-term; exit 7' TERM\necho started\nwhile :; do sleep 0.1; done\n",
      stdout,
      stderr: sink(),
      cancel: controller.signal,
      graceMs: 5_000,
    });
    expect(result).toMatchObject({ exitCode: 7, cancelled: true, lost: false });
    expect(seen).toContain('got-term');
  } finally {
    connection.close();
  }
}
