import { parseDriverConfig } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { driverToml, testContext } from '../../test/context.js';
import { configStage } from './config.js';

describe('custom config', () => {
  it('prints one JSON object without builds_dir or cache_dir, so config.toml decides them', () => {
    const { ctx, output } = testContext();
    configStage(ctx);
    const { stdout, stderr } = output();
    expect(stderr).toBe('');
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    expect(answer).toEqual({
      driver: { name: 'gitlab-fargate-driver', version: expect.any(String) },
      hostname: expect.stringMatching(/^abc123xyz-[0-9a-f]{16}$/),
      builds_dir_is_shared: false,
      // gitlab-runner writes the scripts for this shell (ConfigExecOutput.Shell), whatever config.toml says.
      shell: 'bash',
    });
    expect(Object.keys(answer)).not.toContain('builds_dir');
    expect(Object.keys(answer)).not.toContain('cache_dir');
  });

  it('prints configuration warnings (an unknown key) on stderr, never on stdout, which is the JSON', () => {
    const toml = `${driverToml({ stateDir: '/tmp' })}\nSSHReadyTimeout = 5\n`;
    const { warnings } = parseDriverConfig(toml, { file: 'fargate.toml' });
    const { ctx, output } = testContext({ toml });
    configStage(ctx, warnings);
    const { stdout, stderr } = output();
    expect(stderr).toBe(
      'fargate.toml:16:1: warning: Timeouts.SSHReadyTimeout: expected a known key, found unknown key "SSHReadyTimeout"; did you mean "SSHReady"?\n',
    );
    expect(JSON.parse(stdout)).toMatchObject({ builds_dir_is_shared: false });
  });
});
