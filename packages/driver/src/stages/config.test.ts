import { readFileSync } from 'node:fs';
import { parseDriverConfig } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { driverToml, testContext } from '../../test/context.js';
import { statePath } from '../job/state.js';
import { NATIVE_CLIENT_ENV } from '../ssh/mux/protocol.js';
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

  it("hands the native run client the multiplexer's socket and the Node driver to fall back to, through job_env", () => {
    const { ctx, stateDir, output } = testContext();
    configStage({ ...ctx, driverEntry: '/opt/driver/gitlab-fargate-driver.mjs' });
    const answer = JSON.parse(output().stdout) as { job_env?: Record<string, string> };
    expect(answer.job_env).toEqual({
      // Where prepare will put it: beside the job's state file (muxSocketPath).
      [NATIVE_CLIENT_ENV.socket]: statePath(stateDir, 'abc123xyz', '42').replace(/\.json$/, '.sock'),
      [NATIVE_CLIENT_ENV.node]: process.execPath,
      [NATIVE_CLIENT_ENV.driverScript]: '/opt/driver/gitlab-fargate-driver.mjs',
    });
  });

  it('hands it nothing without a multiplexer, or when the socket path would be too long for one', () => {
    const off = testContext();
    configStage({ ...off.ctx, config: { ...off.ctx.config, ssh: { ...off.ctx.config.ssh, multiplex: false } }, driverEntry: '/opt/driver.mjs' });
    expect(JSON.parse(off.output().stdout)).not.toHaveProperty('job_env');

    const deep = testContext();
    const longDirectory = { ...deep.ctx.config, taskMetadata: { ...deep.ctx.config.taskMetadata, directory: `/tmp/${'d'.repeat(100)}` } };
    configStage({ ...deep.ctx, config: longDirectory, driverEntry: '/opt/driver.mjs' });
    expect(JSON.parse(deep.output().stdout)).not.toHaveProperty('job_env');
  });

  it('names the variables the native client reads', () => {
    const source = readFileSync(new URL('../../native/run-client.c', import.meta.url), 'utf8');
    expect(source).toContain(`#define ENV_SOCKET "${NATIVE_CLIENT_ENV.socket}"`);
    expect(source).toContain(`#define ENV_NODE "${NATIVE_CLIENT_ENV.node}"`);
    expect(source).toContain(`#define ENV_DRIVER_SCRIPT "${NATIVE_CLIENT_ENV.driverScript}"`);
  });
});
