import { createConnection } from 'node:net';
import ssh2 from 'ssh2';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCiCoordinator } from '../../../test/ci-coordinator.js';
import { docker, dockerRun, followContainerEvents, removeOurContainers, signalContainer, TEST_LABELS } from '../../../test/docker.js';
import { connect, connectNegotiating, ed25519KeyPair, exec } from '../../../test/ssh.js';
import { EXIT_MISCONFIGURED } from './entrypoint.js';
import { JOB_KEY_TYPE, SSH_CIPHERS, SSH_KEX_ALGORITHMS, SSH_MACS } from './ssh-algorithms.js';
import { SSHD_LOGIN_GRACE_SECONDS, SSHD_MAX_AUTH_TRIES } from './sshd-config.js';

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

/** How long a container may take to start and sshd to listen: minutes only on a machine loaded far past its cores. */
const CONTAINER_START_TIMEOUT_MS = 180_000;
/** "Stops within two seconds of SIGTERM": the bound on the signal → container exit. */
const SIGTERM_EXIT_WITHIN_MS = 2_000;

async function startJobContainer(image: string, publicKey: string): Promise<StartedTestContainer> {
  return new GenericContainer(image)
    .withEnvironment({ ...TASK_ENVIRONMENT, SSH_PUBLIC_KEY: publicKey })
    .withExposedPorts(22)
    .withLabels(TEST_LABELS)
    .withWaitStrategy(Wait.forLogMessage(/Server listening on 0\.0\.0\.0 port 22/))
    .withStartupTimeout(CONTAINER_START_TIMEOUT_MS)
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
  const keys = ed25519KeyPair();
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
    const other = ed25519KeyPair();
    await expect(
      connect({ host: '127.0.0.1', port: container.getMappedPort(22), username: 'root', privateKey: other.private }),
    ).rejects.toThrow(/authentication methods failed/);
  });

  it('negotiates pinned modern algorithms with the driver’s client (ssh2 with its default lists, as the driver uses it)', async () => {
    const { client: driverLike, negotiated } = await connectNegotiating({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      privateKey: keys.private,
    });
    driverLike.end();
    console.log(`ci-coordinator: ssh2 negotiated ${JSON.stringify(negotiated)}`);
    expect(SSH_KEX_ALGORITHMS).toContain(negotiated.kex);
    expect(negotiated.serverHostKey).toBe('ssh-ed25519');
    for (const direction of [negotiated.cs, negotiated.sc]) {
      expect(SSH_CIPHERS).toContain(direction.cipher);
      // An AEAD cipher carries its own integrity: no MAC is negotiated then.
      expect(direction.cipher).toMatch(/poly1305|gcm/);
    }
  });

  it('shows the pinned configuration in sshd -T', async () => {
    const result = await exec(client, '/usr/sbin/sshd -T');
    expect(result.code, result.stderr).toBe(0);
    const effective = new Map(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)] as const),
    );
    expect(effective.get('kexalgorithms')).toBe(SSH_KEX_ALGORITHMS.join(','));
    expect(effective.get('ciphers')).toBe(SSH_CIPHERS.join(','));
    expect(effective.get('macs')).toBe(SSH_MACS.join(','));
    expect(effective.get('hostkeyalgorithms')).toBe('ssh-ed25519');
    expect(effective.get('pubkeyacceptedalgorithms')).toBe(JOB_KEY_TYPE);
    expect(effective.get('maxauthtries')).toBe(String(SSHD_MAX_AUTH_TRIES));
    expect(effective.get('logingracetime')).toBe(String(SSHD_LOGIN_GRACE_SECONDS));
  });

  const olderOnly: [string, ssh2.Algorithms][] = [
    ['key exchanges (NIST ECDH, finite-field DH)', { kex: ['ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256', 'diffie-hellman-group14-sha1'] }],
    ['ciphers (CBC, 3DES, AES-192)', { cipher: ['aes192-ctr', 'aes256-cbc', 'aes128-cbc', '3des-cbc'] }],
    ['MACs (SHA-1, MAC-then-encrypt)', { cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'] }],
  ];
  it.each(olderOnly)('refuses a client that offers only older %s', async (_what, algorithms) => {
    const error = await connect({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      privateKey: keys.private,
      algorithms,
    }).then(
      (unexpected) => {
        unexpected.end();
        return new Error('connected');
      },
      (rejected: Error) => rejected,
    );
    expect(error.message).toMatch(/no matching/i);
  });

  it('accepts an AES-CTR client only with an encrypt-then-MAC SHA-2 MAC', async () => {
    const { client: ctr, negotiated } = await connectNegotiating({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      privateKey: keys.private,
      algorithms: { cipher: ['aes128-ctr'], hmac: ['hmac-sha1', 'hmac-sha2-256-etm@openssh.com'] },
    });
    ctr.end();
    expect(negotiated.cs).toMatchObject({ cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com' });
  });

  it('refuses an RSA key even when it is authorized (PubkeyAcceptedAlgorithms ssh-ed25519)', async () => {
    const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
    const added = await exec(client, 'cp ~/.ssh/authorized_keys ~/.ssh/ed25519-only && cat >> ~/.ssh/authorized_keys', `${rsa.public}\n`);
    expect(added.code, added.stderr).toBe(0);
    try {
      await expect(
        connect({ host: '127.0.0.1', port: container.getMappedPort(22), username: 'root', privateKey: rsa.private }),
      ).rejects.toThrow(/authentication methods failed/);
    } finally {
      expect((await exec(client, 'mv ~/.ssh/ed25519-only ~/.ssh/authorized_keys')).code).toBe(0);
    }
  });

  it('disconnects a client at its third failed attempt (MaxAuthTries 3)', async () => {
    const strangers = Array.from({ length: 5 }, () => ed25519KeyPair().private);
    let attempts = 0;
    const error = await connect({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      authHandler: (_methodsLeft, _partial, next) => {
        const key = strangers[attempts];
        attempts += 1;
        if (key) {
          next({ type: 'publickey', username: 'root', key });
        } else {
          // ssh2 documents `false` as "no more methods"; its type definitions leave it out.
          (next as unknown as (stop: false) => void)(false);
        }
      },
    }).then(
      (unexpected) => {
        unexpected.end();
        return new Error('connected');
      },
      (rejected: Error) => rejected,
    );
    expect(error.message).not.toBe('connected');
    expect(attempts).toBe(SSHD_MAX_AUTH_TRIES);
  });

  it(
    'closes a connection that does not authenticate within LoginGraceTime',
    async () => {
      const started = performance.now();
      const socket = createConnection({ host: '127.0.0.1', port: container.getMappedPort(22) });
      let banner = '';
      socket.on('data', (chunk: Buffer) => (banner += chunk.toString()));
      // Never answer: sshd must drop the connection itself (the default LoginGraceTime, 120 s, outlasts this test).
      await new Promise<void>((resolve, reject) => {
        socket.once('close', () => resolve());
        socket.once('error', reject);
      });
      console.log(`ci-coordinator: silent client closed by sshd after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      // sshd 9.2 does not log this timeout; that it closed at all within the test's timeout is the evidence.
      expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
    },
    (SSHD_LOGIN_GRACE_SECONDS + 30) * 1000,
  );

  it('refuses at start a job key of a type sshd does not accept', () => {
    const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
    const result = dockerRun(image, ['-e', `SSH_PUBLIC_KEY=${keys.public}\n${rsa.public}`]);
    expect(result.code).toBe(EXIT_MISCONFIGURED);
    expect(result.stderr).toContain('SSH_PUBLIC_KEY holds a ssh-rsa key, and sshd here accepts only ssh-ed25519 keys');
  });

  it('stops within two seconds of SIGTERM, through tini to sshd', async () => {
    const stopped = await startJobContainer(image, keys.public);
    const id = stopped.getId();
    try {
      // From the engine's record of the signal (logged once delivered) to its record of the exit, both on the
      // engine's own clock: neither a docker CLI's start-up nor this machine's clock, which need not be the engine's
      // (DOCKER_HOST may name another machine), is in the figure. The engine's handling of the exit is, so this is
      // an upper bound on tini's and sshd's part.
      const events = await followContainerEvents(id, ['kill', 'die']);
      const [killed, died] = await signalContainer(id, 'TERM')
        .then(() => Promise.all([events.next('kill', 60_000), events.next('die', 60_000)]))
        .finally(() => events.close());
      const latencyMs = Math.round((died.timeNano - killed.timeNano) / 1e6);
      const status = Number(died.Actor.Attributes['exitCode']);
      const logs = docker(['logs', id]);
      console.log(`ci-coordinator: SIGTERM to exit in ${latencyMs} ms, exit status ${status}`);
      expect(latencyMs, logs.stderr).toBeGreaterThanOrEqual(0);
      expect(latencyMs, logs.stderr).toBeLessThan(SIGTERM_EXIT_WITHIN_MS);
      expect(status, logs.stderr).not.toBe(137);
      expect(logs.stderr).toContain('Received signal 15; terminating.');
    } finally {
      docker(['rm', '-f', id]);
    }
  }, CONTAINER_START_TIMEOUT_MS + 90_000);

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
  const keys = ed25519KeyPair();
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
