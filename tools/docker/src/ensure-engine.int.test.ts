import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureDockerEngine, ensureEngineScript } from './ensure-engine.js';

const baseImage = 'local/debian:bookworm';

/** Runs the script inside a container from the base image: a bare Debian machine with no Docker on it. */
function runOnBareMachine(options: { user?: string; prepare?: string }): { status: number | null; stderr: string } {
  const command = `${options.prepare ?? 'true'} && exec bash /ensure-engine`;
  const args = ['run', '--rm', '--network', 'none', '--label', 'gitlab-fargate.test=docker-bootstrap'];
  if (options.user) args.push('--user', options.user);
  args.push('-v', `${ensureEngineScript}:/ensure-engine:ro`, baseImage, 'bash', '-c', command);
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('ensureDockerEngine', () => {
  it('leaves a running engine alone and confirms the base image exists', async () => {
    await expect(ensureDockerEngine()).resolves.toBe(baseImage);
    const id = execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', baseImage], { encoding: 'utf8' });
    expect(id.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('explains an engine that does not answer, with how to fix it', async () => {
    const error = await ensureDockerEngine({ env: { DOCKER_HOST: 'tcp://127.0.0.1:9' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DockerEngineError', exitCode: 1 });
    expect(String((error as Error).message)).toBe(
      'ensure-engine: error: DOCKER_HOST=tcp://127.0.0.1:9 does not answer\n' +
        'ensure-engine: how to fix: start that engine or unset DOCKER_HOST',
    );
  });
});

describe('ensure-engine on a machine without Docker', () => {
  it('refuses to install without root', () => {
    const result = runOnBareMachine({ user: '65534:65534' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ensure-engine: error: Docker is not installed and installing it needs root (uid is 65534)');
    expect(result.stderr).toContain('how to fix: run as root');
  });

  it('refuses to install on a system that is not Debian', () => {
    const result = runOnBareMachine({ prepare: 'rm /etc/debian_version' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ensure-engine: error: Docker is not installed and this is not Debian');
    expect(result.stderr).toContain("how to fix: install Docker with your distribution's packages");
  });
});
