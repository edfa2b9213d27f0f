import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('ensure-engine starting an engine', () => {
  // A second dockerd beside the machine's own, with its own socket, state, lock and bridge, so starting it cannot
  // disturb the engine the other packages' tests use. Its own bridge matters: with --bridge=none dockerd deletes
  // docker0, the other engine's bridge.
  const root = mkdtempSync(join(tmpdir(), 'ensure-engine-'));
  const bridge = `gfe${process.pid % 100_000}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TMPDIR: root,
    DOCKER_SOCK: join(root, 'docker.sock'),
    DOCKERD_PIDFILE: join(root, 'docker.pid'),
    DOCKERD_LOG: join(root, 'dockerd.log'),
    DOCKERD_ARGS: `--data-root ${join(root, 'data')} --exec-root ${join(root, 'x')} --bridge=${bridge} --iptables=false --ip-masq=false`,
    BASE_IMAGE: '',
    ENSURE_ENGINE_LOCK_WAIT: '10',
  };
  const run = () => spawnSync('bash', [ensureEngineScript], { env, encoding: 'utf8', timeout: 90_000 });
  const dockerdPid = () => Number(readFileSync(join(root, 'docker.pid'), 'utf8').trim());

  beforeAll(() => {
    execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  });

  afterAll(async () => {
    try {
      const pid = dockerdPid();
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      spawnSync('ip', ['link', 'delete', bridge]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('starts dockerd in its own session without handing it the lock, so the next caller goes straight through', () => {
    const first = run();
    expect(first.stderr).toContain('starting dockerd');
    expect(first.status).toBe(0);

    const second = run();
    expect(second.status).toBe(0);
    expect(second.stderr).not.toContain('starting dockerd');
    expect(second.stderr).toContain('no base image asked for');

    const lockIsFree = spawnSync('flock', ['--nonblock', join(root, 'gitlab-fargate-ensure-engine.lock'), 'true']);
    expect(lockIsFree.status).toBe(0);
    const pid = dockerdPid();
    expect(execFileSync('ps', ['-o', 'sid=', '-p', String(pid)], { encoding: 'utf8' }).trim()).toBe(String(pid));
  });

  it('names the holder when the lock stays held', async () => {
    const lockFile = join(root, 'gitlab-fargate-ensure-engine.lock');
    // Its own process group, so the sleep flock runs goes too when the group is signalled.
    const holder = spawn('flock', [lockFile, 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      while (spawnSync('flock', ['--nonblock', lockFile, 'true']).status === 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const result = spawnSync('bash', [ensureEngineScript], {
        env: { ...env, ENSURE_ENGINE_LOCK_WAIT: '1' },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`ensure-engine: error: the ensure-engine lock ${lockFile} stayed held for more than 1 s \\(holders: \\d+ flock `),
      );
      expect(result.stderr).toContain('how to fix: stop the process holding it, or raise ENSURE_ENGINE_LOCK_WAIT');
    } finally {
      process.kill(-(holder.pid ?? 0), 'SIGTERM');
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
