import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { arm64BaseImage, ensureDockerEngine, ensureEngineScript } from './ensure-engine.js';

// The first call builds the ARM64 base under qemu (minutes), so these run only with GITLAB_FARGATE_ARM64_TESTS=1
// (.ci/run sets it); on a machine that has the base, both calls are cheap.
const ARM64_TESTS = process.env.GITLAB_FARGATE_ARM64_TESTS === '1';

describe.runIf(ARM64_TESTS)('ensure-engine --arm64', () => {
  it('builds an image tagged linux/arm64 that runs aarch64 binaries, and keeps the amd64 base', async () => {
    await expect(ensureDockerEngine({ arm64: true })).resolves.toBe('local/debian:bookworm');
    const platform = (image: string) =>
      execFileSync('docker', ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', image], { encoding: 'utf8' }).trim();
    expect(platform(arm64BaseImage)).toBe('linux/arm64');
    expect(platform('local/debian:bookworm')).toBe('linux/amd64');
    const machine = execFileSync('docker', ['run', '--rm', '--platform', 'linux/arm64', arm64BaseImage, 'uname', '-m'], {
      encoding: 'utf8',
    });
    expect(machine.trim()).toBe('aarch64');
  }, 900_000);

  it('does nothing more on a second call', () => {
    const again = spawnSync('bash', [ensureEngineScript, '--arm64'], { encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stderr).toContain(`ARM64 ready: qemu-aarch64 registered, base image ${arm64BaseImage}`);
    expect(again.stderr).not.toMatch(/installing|mounting|registering|building/);
  }, 900_000);
});

describe('ensure-engine arguments', () => {
  it('refuses an unknown argument or flag value before doing anything', () => {
    const badArgument = spawnSync('bash', [ensureEngineScript, '--arm'], { encoding: 'utf8' });
    expect(badArgument.status).toBe(2);
    expect(badArgument.stderr).toContain("ensure-engine: error: unknown argument '--arm'");
    expect(badArgument.stderr).toContain('how to fix: the only argument is --arm64');
    const badValue = spawnSync('bash', [ensureEngineScript], { encoding: 'utf8', env: { ...process.env, ENSURE_ENGINE_ARM64: 'yes' } });
    expect(badValue.status).toBe(2);
    expect(badValue.stderr).toContain("ensure-engine: error: ENSURE_ENGINE_ARM64 is 'yes', not 0 or 1");
  });
});
