import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, docker, dockerRun, LOCAL_BASE_IMAGE, removeOurContainers, TEST_LABELS } from '../../../test/docker.js';
import { connect, exec } from '../../../test/ssh.js';
import { generateImages, writeGeneratedFiles } from '../../generate.js';
import type { CiCoordinatorSpec } from '../../spec/ci-coordinator.js';
import { EXIT_MISCONFIGURED } from './entrypoint.js';

/** What ECS puts into a Fargate container's environment, plus a value that shell quoting must survive. */
const TASK_ENVIRONMENT = {
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/0c5a8e4e-test',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/0123456789abcdef-test',
  // Names the entrypoint might have used for itself must pass through untouched.
  SSH_USER: 'someone-else',
  TRICKY_VALUE: `it's "quoted" $HOME \`x\` \\ and\na second line`,
};

/** Builds the generated Dockerfile for `spec` offline: local base image, no GitLab package repository. */
async function buildCiCoordinator(spec: CiCoordinatorSpec, tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ci-coordinator-'));
  try {
    const files = generateImages({ ciCoordinator: spec })
      .filter((file) => file.path.startsWith('ci-coordinator/'))
      .map((file) => ({ ...file, path: file.path.slice('ci-coordinator/'.length) }));
    await writeGeneratedFiles(dir, files);
    return await buildImage(dir, tag, { BASE_IMAGE: LOCAL_BASE_IMAGE, INSTALL_GITLAB_RUNNER: 'false' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function startJobContainer(image: string, publicKey: string): Promise<StartedTestContainer> {
  return new GenericContainer(image)
    .withEnvironment({ ...TASK_ENVIRONMENT, SSH_PUBLIC_KEY: publicKey })
    .withExposedPorts(22)
    .withLabels(TEST_LABELS)
    .withWaitStrategy(Wait.forLogMessage(/Server listening on 0\.0\.0\.0 port 22/))
    .start();
}

function parseEnv(output: string): Map<string, string> {
  // `env -0` separates entries with NUL, so values with newlines stay whole.
  return new Map(
    output
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

describe('ci-coordinator image (root SSH user, the default spec)', () => {
  const keys = ssh2.utils.generateKeyPairSync('ed25519');
  let image: string;
  let container: StartedTestContainer;
  let client: ssh2.Client;

  beforeAll(async () => {
    removeOurContainers();
    image = await buildCiCoordinator({}, 'gitlab-fargate-test/ci-coordinator:root');
    container = await startJobContainer(image, keys.public);
    client = await connect({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      privateKey: keys.private,
    });
  });

  afterAll(async () => {
    client?.end();
    await container?.stop();
  });

  it('gives SSH sessions the container environment, ECS task-role variables included', async () => {
    const result = await exec(client, 'env -0');
    expect(result.code).toBe(0);
    const env = parseEnv(result.stdout);
    for (const [name, value] of Object.entries(TASK_ENVIRONMENT)) {
      expect(env.get(name), name).toBe(value);
    }
    // The session keeps its own identity, and the job key is not passed on.
    expect(env.get('HOME')).toBe('/root');
    expect(env.get('USER')).toBe('root');
    expect(env.has('SSH_PUBLIC_KEY')).toBe(false);
    expect(env.has('SSH_ORIGINAL_COMMAND')).toBe(false);
  });

  it('runs a script streamed over stdin with bash and returns its exit code', async () => {
    const result = await exec(client, 'bash -s', 'echo "region=$AWS_REGION"; git --version; git lfs version; exit 7\n');
    expect(result.stdout).toMatch(/^region=eu-west-1\ngit version .*\ngit-lfs\//);
    expect(result.code).toBe(7);
  });

  it('installs the key with strict modes and execs sshd without SSH_PUBLIC_KEY', async () => {
    const script = [
      'stat -c "%a %U %n" ~/.ssh ~/.ssh/authorized_keys',
      // The listening sshd is the child of tini (PID 1).
      'for p in /proc/[0-9]*; do',
      '  if [ "$(cat "$p/comm")" = sshd ] && grep -q "^PPid:[[:space:]]*1$" "$p/status"; then',
      '    echo "sshd=${p#/proc/}"; tr "\\0" "\\n" < "$p/environ" | sed "s/^/sshd environ: /"',
      '  fi',
      'done',
      'sed "s/^/saved: /" /run/gitlab-fargate/session.env',
    ].join('\n');
    const result = await exec(client, 'bash -s', script);
    expect(result.stdout).toContain('700 root /root/.ssh\n');
    expect(result.stdout).toContain('600 root /root/.ssh/authorized_keys\n');
    expect(result.stdout).toMatch(/^sshd=\d+$/m);
    expect(result.stdout).not.toContain('SSH_PUBLIC_KEY');
    // sshd's setproctitle() overwrites the memory /proc/<pid>/environ shows (it reads "-D -e [listener] ..."), so
    // that file alone cannot prove much. The entrypoint saves its exported environment right before it execs sshd,
    // with nothing exported in between: that snapshot holds the task variables and not the key.
    expect(result.stdout).toMatch(/^sshd environ: .*\[listener\]/m);
    expect(result.stdout).toContain('saved: export AWS_REGION=eu-west-1\n');
  });

  it('offers only public-key authentication and refuses a password', async () => {
    const offered: string[][] = [];
    let attempts = 0;
    const error = await connect({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      authHandler: (methodsLeft, _partial, next) => {
        attempts += 1;
        if (methodsLeft) {
          offered.push(methodsLeft);
        }
        if (attempts === 1) {
          next({ type: 'none', username: 'root' });
        } else if (attempts === 2) {
          next({ type: 'password', username: 'root', password: 'root' });
        } else if (attempts === 3) {
          next({ type: 'keyboard-interactive', username: 'root', prompt: (_n, _i, _l, _p, answer) => answer(['root']) });
        } else {
          // ssh2 documents `false` as "no more methods"; its type definitions leave it out.
          (next as unknown as (stop: false) => void)(false);
        }
      },
    }).then(
      (unexpected) => {
        unexpected.end();
        return undefined;
      },
      (rejected: Error) => rejected,
    );
    expect(error?.message).toMatch(/All configured authentication methods failed/);
    expect(offered[0]).toEqual(['publickey']);
  });

  it('refuses a key it was not given', async () => {
    const other = ssh2.utils.generateKeyPairSync('ed25519');
    await expect(
      connect({ host: '127.0.0.1', port: container.getMappedPort(22), username: 'root', privateKey: other.private }),
    ).rejects.toThrow(/authentication methods failed/);
  });

  it('stops within two seconds of SIGTERM, through tini to sshd', async () => {
    const stopped = await startJobContainer(image, keys.public);
    const id = stopped.getId();
    const started = performance.now();
    expect(docker(['kill', '--signal', 'TERM', id]).code).toBe(0);
    const waited = docker(['wait', id], { timeoutMs: 15_000 });
    const seconds = (performance.now() - started) / 1000;
    const logs = docker(['logs', id]);
    docker(['rm', '-f', id]);
    console.log(`ci-coordinator: SIGTERM to exit in ${seconds.toFixed(2)} s, exit status ${waited.stdout.trim()}`);
    expect(seconds).toBeLessThan(2);
    expect(waited.stdout.trim()).not.toBe('137');
    expect(logs.stderr).toContain('Received signal 15; terminating.');
  });

  it('exits with a clear message when SSH_PUBLIC_KEY is missing', () => {
    const result = dockerRun(image, []);
    expect(result.code).toBe(EXIT_MISCONFIGURED);
    expect(result.stderr).toContain('ci-coordinator: error: SSH_PUBLIC_KEY is empty or not set');
    expect(result.stderr).toContain('how to fix: start the container with the job');
  });

  it('refuses a SSH_PUBLIC_KEY that is not a public key', () => {
    const result = dockerRun(image, ['-e', 'SSH_PUBLIC_KEY=-----BEGIN OPENSSH PRIVATE KEY-----']);
    expect(result.code).toBe(EXIT_MISCONFIGURED);
    expect(result.stderr).toContain('SSH_PUBLIC_KEY holds a line that is not an OpenSSH public key');
  });
});

describe('ci-coordinator image with a non-root SSH user', () => {
  const keys = ssh2.utils.generateKeyPairSync('ed25519');
  let container: StartedTestContainer;

  beforeAll(async () => {
    const image = await buildCiCoordinator({ sshUser: 'ci' }, 'gitlab-fargate-test/ci-coordinator:ci-user');
    container = await startJobContainer(image, keys.public);
  });

  afterAll(async () => {
    await container?.stop();
  });

  it('lets the user in with the key, with the container environment, and keeps root out', async () => {
    const port = container.getMappedPort(22);
    const client = await connect({ host: '127.0.0.1', port, username: 'ci', privateKey: keys.private });
    try {
      const result = await exec(
        client,
        'id -un; stat -c "%a %U" ~/.ssh/authorized_keys; echo "$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"; ' +
          'mkdir -p /opt/gitlab-runner/builds/group/project /opt/gitlab-runner/cache/group && echo "job folders writable"',
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(
        `ci\n600 ci\n${TASK_ENVIRONMENT.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}\njob folders writable\n`,
      );
    } finally {
      client.end();
    }
    await expect(connect({ host: '127.0.0.1', port, username: 'root', privateKey: keys.private })).rejects.toThrow(
      /authentication methods failed/,
    );
  });
});
