import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callDriver, type DriverCallOptions } from './driver-process.js';

const cwd = mkdtempSync(join(tmpdir(), 'harness-process-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function bash(script: string, overrides: Partial<DriverCallOptions> = {}) {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const result = callDriver({
    executable: 'bash',
    args: ['-c', script],
    cwd,
    env: { PATH: process.env.PATH },
    timeoutMs: 10_000,
    gracefulKillMs: 2_000,
    forceKillMs: 1_000,
    onStdout: (c) => stdout.push(c),
    onStderr: (c) => stderr.push(c),
    ...overrides,
  });
  return result.then((r) => ({ ...r, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
}

describe('callDriver', () => {
  it('passes output and the exit code through', async () => {
    const result = await bash('echo out; echo err >&2; pwd; exit 7');
    expect(result).toMatchObject({ exitCode: 7, signal: null, abandoned: false, stdout: `out\n${cwd}\n`, stderr: 'err\n' });
    expect(result.stoppedBy).toBeUndefined();
  });

  it('sends SIGTERM to the whole process group on timeout', async () => {
    // The child traps TERM and reports it, as a driver cleaning up would.
    const result = await bash("trap 'echo got TERM; exit 143' TERM; sleep 30 & wait", { timeoutMs: 300 });
    expect(result).toMatchObject({ stoppedBy: 'timeout', exitCode: 143, abandoned: false, stdout: 'got TERM\n' });
  });

  it('escalates to SIGKILL when the driver ignores SIGTERM', async () => {
    const result = await bash("trap '' TERM; echo ready; while :; do sleep 0.1; done", { timeoutMs: 300, gracefulKillMs: 300 });
    expect(result).toMatchObject({ stoppedBy: 'timeout', exitCode: null, signal: 'SIGKILL', abandoned: false });
  });

  it('stops on cancel like on timeout', async () => {
    const controller = new AbortController();
    // Cancelled once the driver said its TERM trap is set, as a runner cancels a job that is under way.
    const result = await bash("trap 'echo got TERM; exit 143' TERM; echo ready; sleep 30 & wait", {
      signal: controller.signal,
      onStdout: (chunk) => chunk.toString().includes('ready') && controller.abort(),
    });
    expect(result).toMatchObject({ stoppedBy: 'cancel', exitCode: 143, signal: null });
  });

  it('explains an executable that cannot start', async () => {
    await expect(callDriver({
      executable: join(cwd, 'no-such-driver'), args: [], cwd, env: {}, timeoutMs: 1000, gracefulKillMs: 10, forceKillMs: 10,
    })).rejects.toThrow(
      `cannot start ${join(cwd, 'no-such-driver')}: ENOENT (check the *_exec paths in [runners.custom] of config.toml: each must exist and be executable)`,
    );
  });
});
