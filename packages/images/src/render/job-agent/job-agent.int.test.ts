import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, LOCAL_BASE_IMAGE } from '../../../test/docker.js';
import {
  buildDebianJobImage,
  buildOwnEntrypointJobImage,
  buildScratchBusyboxImage,
  buildUser1000JobImage,
  JOB_IMAGE_FIXTURES,
  JOB_TOOL,
  JOB_TOOL_DIR,
  OWN_ENTRYPOINT_MARKER,
} from '../../../test/fixtures/job-images.js';
import { buildPostgresFixture, POSTGRES_FIXTURE_IMAGE, POSTGRES_FIXTURE_READY } from '../../../test/fixtures/postgres.js';
import {
  buildJobAgentImage,
  JOB_AGENT_TEST_IMAGE,
  labelArgs,
  loginWhenReady,
  populateAgentVolume,
  removeAll,
  removeJobAgentTestLeftovers,
  run,
  runBuildContainer,
  startBuildContainer,
  uniqueName,
  type BuildContainerOptions,
} from '../../../test/job-agent.js';
import type { ExecResult } from '../../../test/ssh.js';
import {
  JOB_AGENT_DEFAULT_SSH_PORT,
  JOB_AGENT_ENV,
  JOB_AGENT_EXIT_MISCONFIGURED,
  JOB_AGENT_LOGIN_NAME,
  JOB_AGENT_SESSION_ENV,
} from '../../spec/job-agent-contract.js';
import { JOB_AGENT_LICENSES } from './dockerfile.js';
import { ed25519KeyPair } from '../../../test/ssh.js';

/**
 * How long Postgres may take to initialise its cluster and accept connections: seconds on an idle machine, but initdb
 * writes and fsyncs its whole catalogue, which a loaded machine can stretch to minutes.
 */
const POSTGRES_READY_TIMEOUT_MS = 180_000;

/** What ECS puts into a Fargate container's environment, plus a value that must arrive byte for byte. */
const TASK_ENVIRONMENT = {
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/0c5a8e4e-test',
  AWS_REGION: 'eu-west-1',
  ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/0123456789abcdef-test',
  TRICKY_VALUE: `it's "quoted" $HOME \`x\` \\ and\na second line`,
};

/** gitlab-runner's shell detection for the custom executor (shells/bash.go, BashDetectShellScript), shortened. */
const DETECT_SHELL = [
  'if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash -c "echo bash \\$BASH_VERSION"',
  'elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash -c "echo bash \\$BASH_VERSION"',
  'elif [ -x /bin/bash ]; then exec /bin/bash -c "echo bash \\$BASH_VERSION"',
  'elif [ -x /bin/sh ]; then exec /bin/sh -c "echo sh"',
  'else echo shell not found; exit 1; fi',
].join('; ');

function parseEnv(output: string): Map<string, string> {
  return new Map(
    output
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

describe('job-agent image', () => {
  const keys = ed25519KeyPair();
  const containers: string[] = [];
  const volumes: string[] = [];
  let agentVolume: string;
  let initOutput: { code: number; stdout: string; stderr: string };

  /** Starts a build container of `image` with the job key and the agent volume, logs in, runs `commands`. */
  async function inJob(options: Omit<BuildContainerOptions, 'agentVolume'>, commands: readonly string[]): Promise<ExecResult[]> {
    const container = startBuildContainer({
      ...options,
      agentVolume,
      env: { [JOB_AGENT_ENV.sshPublicKey]: keys.public, ...options.env },
    });
    containers.push(container);
    const client = await loginWhenReady(container, keys.private);
    try {
      const results: ExecResult[] = [];
      for (const command of commands) {
        results.push(await run(client, command));
      }
      return results;
    } finally {
      client.end();
    }
  }

  function failedStart(image: string, env: Record<string, string>, runArgs: readonly string[] = []): { code: number; stderr: string } {
    return runBuildContainer({ image, agentVolume, env, runArgs, publish: false });
  }

  beforeAll(async () => {
    removeJobAgentTestLeftovers();
    await buildJobAgentImage();
    await buildScratchBusyboxImage();
    await buildDebianJobImage();
    await buildUser1000JobImage();
    await buildOwnEntrypointJobImage();
    await buildPostgresFixture();
    const populated = populateAgentVolume();
    agentVolume = populated.volume;
    volumes.push(agentVolume);
    initOutput = populated.output;
  });

  afterAll(() => {
    removeAll(containers, volumes);
  });

  it('is a small FROM-scratch image whose init container fills an empty volume from its VOLUME and exits 0', () => {
    expect(initOutput.code).toBe(0);
    expect(initOutput.stdout).toMatch(/Debian source package dropbear 2022\.83-\S+, built statically with musl/);
    expect(initOutput.stdout).toMatch(/Debian package busybox-static 1:1\.\d+\.\d+-\S+/);
    expect(initOutput.stdout).toMatch(/apt-get source busybox=1:1\.\d+\.\d+-\S+/);
    const listing = docker(['run', '--rm', ...labelArgs, '-v', `${agentVolume}:/v:ro`, LOCAL_BASE_IMAGE, 'sh', '-c', 'cd /v && stat -c "%n %a %i" * licenses/*']);
    const files = new Map(listing.stdout.trim().split('\n').map((line) => [line.split(' ')[0], line.split(' ').slice(1)]));
    expect([...files.keys()].sort()).toEqual([
      'busybox',
      'dropbearmulti',
      'gf-entry',
      'gf-session',
      'licenses',
      'licenses/SOURCES',
      'licenses/busybox.copyright',
      'licenses/dropbear.LICENSE',
      'licenses/dropbear.copyright',
      'sh',
    ]);
    expect(files.get('sh')?.[1]).toBe(files.get('busybox')?.[1]);
    for (const executable of ['busybox', 'dropbearmulti', 'gf-entry', 'gf-session']) {
      expect(files.get(executable)?.[0], executable).toBe('755');
    }
    const inspect = JSON.parse(docker(['image', 'inspect', JOB_AGENT_TEST_IMAGE]).stdout) as [
      { Size: number; Config: { Volumes: Record<string, object>; Labels: Record<string, string> }; RootFS: { Layers: string[] } },
    ];
    const [image] = inspect;
    expect(image.Config.Volumes).toEqual({ '/opt/gf': {} });
    expect(image.Config.Labels['org.opencontainers.image.licenses']).toBe(JOB_AGENT_LICENSES);
    expect(image.Config.Labels['org.opencontainers.image.title']).toBe('gitlab-fargate job-agent');
    // FROM scratch: the built files and the two scripts, nothing of the builder stage.
    expect(image.RootFS.Layers).toHaveLength(2);
    expect(image.Size).toBeLessThan(3_000_000);
  });

  it('runs in a FROM-scratch image holding only a static busybox: no libc, no /etc/passwd', async () => {
    const image = JOB_IMAGE_FIXTURES.scratchBusybox;
    const before = docker(['run', '--rm', ...labelArgs, '--entrypoint', '/bin/busybox', image, 'ls', '/etc/passwd', '/lib', '/usr']);
    expect(before.stderr).toMatch(/\/etc\/passwd: No such file[\s\S]*\/lib: No such file[\s\S]*\/usr: No such file/);
    const [id, script, passwd, tmp] = await inJob({ image }, ['id -u; id -g', 'echo "hello from $0"; exit 3', 'cat /etc/passwd', 'stat -c %a /tmp']);
    // The image has no /tmp: the agent makes one every user may write to, as shells and the driver expect.
    expect(tmp).toMatchObject({ code: 0, stdout: '1777\n' });
    expect(id).toMatchObject({ code: 0, stdout: '0\n0\n' });
    expect(script).toMatchObject({ code: 3, stdout: 'hello from /bin/sh\n' });
    expect(passwd?.stdout).toBe(`${JOB_AGENT_LOGIN_NAME}:x:0:0:gitlab-fargate job:/run/gitlab-fargate/home:/opt/gf/gf-session\n`);
  });

  it('falls back to busybox’s sh in an image without /bin/sh', async () => {
    const [removed, fallback] = await inJob({ image: JOB_IMAGE_FIXTURES.scratchBusybox }, ['rm /bin/sh', 'echo "$SHELL"; echo "$0"']);
    expect(removed?.code).toBe(0);
    expect(fallback).toMatchObject({ code: 0, stdout: '/opt/gf/sh\n/opt/gf/sh\n' });
  });

  it('refuses any key but the job key', async () => {
    const env = { [JOB_AGENT_ENV.sshPublicKey]: keys.public };
    const container = startBuildContainer({ image: JOB_IMAGE_FIXTURES.debian, agentVolume, env });
    containers.push(container);
    (await loginWhenReady(container, keys.private)).end();
    const foreign = ed25519KeyPair();
    await expect(loginWhenReady(container, foreign.private, -1)).rejects.toThrow(/All configured authentication methods failed/);
  });

  it('runs in Debian without sshd or git, with the image’s PATH and HOME, and no agent variables', async () => {
    const image = JOB_IMAGE_FIXTURES.debian;
    const [tools, env, tool] = await inJob({ image, env: TASK_ENVIRONMENT }, [
      'for tool in sshd ssh git; do command -v "$tool"; done; echo "$SHELL"; pwd',
      'env -0',
      JOB_TOOL,
    ]);
    expect(tools).toMatchObject({ code: 0, stdout: '/bin/sh\n/root\n' });
    const variables = parseEnv(env?.stdout ?? '');
    expect(variables.get('PATH')).toBe(`${JOB_TOOL_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
    expect(variables.get('HOME')).toBe('/root');
    for (const name of [...Object.values(JOB_AGENT_ENV), ...Object.values(JOB_AGENT_SESSION_ENV), 'OLDPWD']) {
      expect(variables.has(name), name).toBe(false);
    }
    expect(tool).toMatchObject({ code: 0, stdout: `${JOB_TOOL} ran\n` });
  });

  it('passes the task environment, task-role credential variables included, on to sessions', async () => {
    const [env] = await inJob({ image: JOB_IMAGE_FIXTURES.scratchBusybox, env: TASK_ENVIRONMENT }, ['env -0']);
    const variables = parseEnv(env?.stdout ?? '');
    for (const [name, value] of Object.entries(TASK_ENVIRONMENT)) {
      expect(variables.get(name), name).toBe(value);
    }
  });

  it('runs the job as GITLAB_FARGATE_JOB_USER: uid 1000 in a USER 1000 image, owning what it writes to /builds', async () => {
    const builds = uniqueName('builds');
    volumes.push(builds);
    expect(docker(['volume', 'create', ...labelArgs, builds]).code).toBe(0);
    // The helper container (root) prepares the builds folder for the job user, as it would in the task.
    expect(docker(['run', '--rm', ...labelArgs, '-v', `${builds}:/builds`, LOCAL_BASE_IMAGE, 'chown', '1000:1000', '/builds']).code).toBe(0);
    const image = JOB_IMAGE_FIXTURES.user1000;
    const [id, write] = await inJob({ image, env: { [JOB_AGENT_ENV.jobUser]: '1000' }, runArgs: ['-v', `${builds}:/builds`] }, [
      'id -u; id -g; echo "$HOME"',
      'echo built > /builds/out.txt',
    ]);
    expect(id).toMatchObject({ code: 0, stdout: '1000\n1000\n/home/builder\n' });
    expect(write?.code).toBe(0);
    const owner = docker(['run', '--rm', ...labelArgs, '-v', `${builds}:/builds:ro`, LOCAL_BASE_IMAGE, 'stat', '-c', '%u:%g', '/builds/out.txt']);
    expect(owner.stdout.trim()).toBe('1000:1000');
  });

  it('takes the job user as a name from the image’s /etc/passwd, or as uid:gid, and runs as root without one', async () => {
    const image = JOB_IMAGE_FIXTURES.user1000;
    const [byName] = await inJob({ image, env: { [JOB_AGENT_ENV.jobUser]: 'builder' } }, ['id -un; id -u']);
    expect(byName?.stdout).toBe('builder\n1000\n');
    const [pair] = await inJob({ image, env: { [JOB_AGENT_ENV.jobUser]: '1234:5678' } }, ['id -u; id -g; echo "$HOME"']);
    expect(pair?.stdout).toBe('1234\n5678\n/\n');
    const [root] = await inJob({ image }, ['id -u']);
    expect(root?.stdout).toBe('0\n');
  });

  it('ignores the image’s own ENTRYPOINT', async () => {
    // The fixture's ENTRYPOINT runs (and fails) when a container of the image is started as it is.
    const own = docker(['run', '--rm', ...labelArgs, JOB_IMAGE_FIXTURES.ownEntrypoint]);
    expect(own).toMatchObject({ code: 1, stderr: 'own entrypoint ran\n' });
    const [marker] = await inJob({ image: JOB_IMAGE_FIXTURES.ownEntrypoint }, [`test -e ${OWN_ENTRYPOINT_MARKER}; echo $?`]);
    expect(marker?.stdout).toBe('1\n');
  });

  it('maps GITLAB_FARGATE_HOSTS to 127.0.0.1 in /etc/hosts', async () => {
    const [hosts] = await inJob({ image: JOB_IMAGE_FIXTURES.debian, env: { [JOB_AGENT_ENV.hosts]: 'pg db' } }, [
      'for name in pg db; do getent ahostsv4 "$name" | awk \'NR == 1 { print $1 }\'; done',
    ]);
    expect(hosts).toMatchObject({ code: 0, stdout: '127.0.0.1\n127.0.0.1\n' });
  });

  it('leaves shell choice to the job: bash where the image has it, sh where it does not', async () => {
    const [debian] = await inJob({ image: JOB_IMAGE_FIXTURES.debian }, [DETECT_SHELL]);
    expect(debian?.stdout).toMatch(/^bash 5\.\d/);
    const [scratch] = await inJob({ image: JOB_IMAGE_FIXTURES.scratchBusybox }, [DETECT_SHELL]);
    expect(scratch).toMatchObject({ code: 0, stdout: 'sh\n' });
  });

  it('reaches a Postgres service by its alias from a build container in the service’s network namespace', async () => {
    const service = uniqueName('postgres');
    containers.push(service);
    // The service owns the network namespace (like the task's), so it publishes the build container's SSH port.
    const started = docker([
      'run', '-d', '--name', service, ...labelArgs, '-p', `127.0.0.1::${JOB_AGENT_DEFAULT_SSH_PORT}`,
      '-e', 'POSTGRES_PASSWORD=secret-pw', '-e', 'POSTGRES_DB=app', POSTGRES_FIXTURE_IMAGE,
    ]);
    expect(started.code, started.stderr).toBe(0);
    await waitForLog(service, POSTGRES_FIXTURE_READY, POSTGRES_READY_TIMEOUT_MS);
    const container = startBuildContainer({
      image: JOB_IMAGE_FIXTURES.debian,
      agentVolume,
      publish: false,
      env: { [JOB_AGENT_ENV.sshPublicKey]: keys.public, [JOB_AGENT_ENV.hosts]: 'postgres db', PGPASSWORD: 'secret-pw' },
      runArgs: ['--network', `container:${service}`],
    });
    containers.push(container);
    const client = await loginWhenReady(service, keys.private);
    try {
      const query = await run(client, 'psql -h postgres -U postgres -d app -tAc "select 40 + 2"; psql -h db -U postgres -d app -tAc "select current_database()"');
      expect(query).toMatchObject({ code: 0, stdout: '42\napp\n' });
    } finally {
      client.end();
    }
  }, POSTGRES_READY_TIMEOUT_MS + 120_000);

  it('lets OpenSSH in too, accepting the new host key', async () => {
    const env = { [JOB_AGENT_ENV.sshPublicKey]: keys.public };
    const container = startBuildContainer({ image: JOB_IMAGE_FIXTURES.debian, agentVolume, env });
    containers.push(container);
    (await loginWhenReady(container, keys.private)).end();
    const port = docker(['port', container, String(JOB_AGENT_DEFAULT_SSH_PORT)]).stdout.trim().split(':').pop() ?? '';
    const dir = await mkdtemp(join(tmpdir(), 'job-agent-openssh-'));
    try {
      await writeFile(join(dir, 'key'), keys.private, { mode: 0o600 });
      const options = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`];
      const result = spawnSync('ssh', [...options, '-i', join(dir, 'key'), '-p', port, `${JOB_AGENT_LOGIN_NAME}@127.0.0.1`, 'id -un; exit 5'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.error, 'ssh gave no answer within 60 s').toBeUndefined();
      expect(result.stdout, result.stderr).toBe('root\n');
      expect(result.status).toBe(5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops on SIGTERM (ECS StopTask) by itself, dropbear being PID 1', async () => {
    const env = { [JOB_AGENT_ENV.sshPublicKey]: keys.public };
    const container = startBuildContainer({ image: JOB_IMAGE_FIXTURES.scratchBusybox, agentVolume, env });
    containers.push(container);
    const client = await loginWhenReady(container, keys.private);
    const pid1 = await run(client, 'cat /proc/1/comm');
    client.end();
    expect(pid1?.stdout).toBe('dropbearmulti\n');
    // A generous grace period: an exit code other than 137 (SIGKILL) means SIGTERM alone ended it.
    expect(docker(['stop', '--time', '60', container]).code).toBe(0);
    const exitCode = docker(['inspect', '--format', '{{.State.ExitCode}}', container]).stdout.trim();
    expect(exitCode).not.toBe('137');
  });

  it('refuses to start without SSH_PUBLIC_KEY, saying what and how to fix it', () => {
    const result = failedStart(JOB_IMAGE_FIXTURES.scratchBusybox, {});
    expect(result.code).toBe(JOB_AGENT_EXIT_MISCONFIGURED);
    expect(result.stderr).toContain('gf-entry: error: SSH_PUBLIC_KEY is empty or not set, so nobody could log in');
    expect(result.stderr).toContain("gf-entry: how to fix: set SSH_PUBLIC_KEY to the job's public key");
  });

  it('refuses a bad key, port, host name or user before it changes anything', () => {
    const image = JOB_IMAGE_FIXTURES.debian;
    const key = { [JOB_AGENT_ENV.sshPublicKey]: keys.public };
    const cases: [Record<string, string>, string][] = [
      [{ [JOB_AGENT_ENV.sshPublicKey]: '-----BEGIN OPENSSH PRIVATE KEY-----' }, 'does not start with a key type dropbear accepts'],
      [{ [JOB_AGENT_ENV.sshPublicKey]: `${keys.public}\n${keys.public}` }, 'holds more than one line'],
      [{ [JOB_AGENT_ENV.sshPublicKey]: 'command="sh" ssh-ed25519 AAAA' }, 'does not start with a key type dropbear accepts'],
      [{ ...key, [JOB_AGENT_ENV.sshPort]: '70000' }, "GITLAB_FARGATE_SSH_PORT is '70000', not a port number"],
      [{ ...key, [JOB_AGENT_ENV.hosts]: 'pg bad/name' }, "GITLAB_FARGATE_HOSTS holds 'bad/name', which is not a host name"],
      [{ ...key, [JOB_AGENT_ENV.jobUser]: 'nobody-here' }, "is 'nobody-here', but the image's /etc/passwd has no such user"],
      [{ ...key, [JOB_AGENT_ENV.jobUser]: '1000:staff' }, 'uid:gid must be two numbers'],
    ];
    for (const [env, message] of cases) {
      const result = failedStart(image, env, ['--read-only']);
      expect(result.code, message).toBe(JOB_AGENT_EXIT_MISCONFIGURED);
      expect(result.stderr, message).toContain(message);
      expect(result.stderr, message).toContain('gf-entry: how to fix:');
    }
  });

  it('fails clearly on a read-only root filesystem, and when not started as root', () => {
    const key = { [JOB_AGENT_ENV.sshPublicKey]: keys.public };
    const readOnly = failedStart(JOB_IMAGE_FIXTURES.debian, key, ['--read-only']);
    expect(readOnly.code).toBe(JOB_AGENT_EXIT_MISCONFIGURED);
    expect(readOnly.stderr).toContain('gf-entry: error: cannot write /etc/passwd (');
    expect(readOnly.stderr).toContain('how to fix: give the build container a writable root filesystem');
    const notRoot = failedStart(JOB_IMAGE_FIXTURES.debian, key, ['--user', '1000']);
    expect(notRoot.code).toBe(JOB_AGENT_EXIT_MISCONFIGURED);
    expect(notRoot.stderr).toContain('gf-entry: error: the build container runs as uid 1000');
  });
});

/**
 * Waits until a container's log shows `pattern` (the event), failing with the log when the container stops first or
 * `timeoutMs` passes.
 */
async function waitForLog(container: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const follow = spawn('docker', ['logs', '-f', container]);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString();
        if (pattern.test(seen)) {
          resolve();
        }
      };
      follow.stdout.on('data', onData);
      follow.stderr.on('data', onData);
      follow.once('exit', () => reject(new Error(`${container} stopped before logging ${pattern}: ${seen}`)));
      timer = setTimeout(() => reject(new Error(`${container} did not log ${pattern} within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    follow.kill();
  }
}
