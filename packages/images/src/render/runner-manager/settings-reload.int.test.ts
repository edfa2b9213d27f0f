import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDriverConfig, parseRunnerConfig } from '@gitlab-fargate/config';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configCliStatus } from '../../../test/config-cli.js';
import { buildImage, docker, dockerRun, removeOurContainers, TEST_LABELS } from '../../../test/docker.js';
import { MOTO_MISSING, putParameter, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../../test/moto.js';
import { testNodeBaseImage } from '../../../test/node-base-image.js';
import { CONFIG_PACKAGE_DIR } from '../../../test/paths.js';
import { assembleRunnerManagerContext } from '../../context/runner-manager-context.js';
import { EXIT_MISCONFIGURED } from './entrypoint.js';

configCliStatus();

const RUNNER_TOKEN = `glrt-t1_${randomBytes(15).toString('base64url')}`;
const CONFIG = '/etc/gitlab-runner/config.toml';
const DRIVER = '/etc/gitlab-runner/fargate.toml';
const PID_FILE = '/tmp/stand-in-gitlab-runner.pid';

/** What a task definition gives the manager, without the settings the parameter holds. */
const TASK_ENVIRONMENT = {
  CLUSTER: 'gitlab-ci-dev',
  REGION: TEST_REGION,
  SUBNETS: 'subnet-0a1b2c3d4e5f60718',
  TASK_DEFINITION: 'gitlab-ci-dev-job:7',
  GITLAB_URL: 'https://gitlab.example.com/',
  RUNNER_NAME: 'fargate-dev',
  CONCURRENT: '4',
  RUNNER_TOKEN,
  GITLAB_FARGATE_MANAGER_VERSION: 'v1',
  GITLAB_FARGATE_SETTINGS_POLL_SECONDS: '1',
  AWS_REGION: TEST_REGION,
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
};

/**
 * Stands in for gitlab-runner, which the offline image cannot install: it records its PID and, as gitlab-runner does
 * on SIGQUIT once its running jobs have ended (handleGracefulShutdown in commands/multi.go), exits 0.
 */
const STAND_IN_GITLAB_RUNNER = [
  'sh',
  '-c',
  `echo $$ >${PID_FILE}; trap 'echo "stand-in gitlab-runner: SIGQUIT, exiting 0"; exit 0' QUIT; ` +
    'echo "stand-in gitlab-runner: running as $(id -un)"; sleep infinity & wait $!',
];

const labels = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
const envArgs = (environment: Record<string, string>): string[] => Object.entries(environment).flatMap(([name, value]) => ['-e', `${name}=${value}`]);

/** `docker run --rm` without blocking this process, which serves the metadata endpoint the container calls. */
function dockerRunAsync(runArgs: string[], command: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '--rm', ...labels, ...runArgs, image, ...command]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Polls `probe` until it returns something; fails saying `what` did not happen within two minutes, and `context()`. */
async function waitFor<T>(what: string, probe: () => T | undefined, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 120 s\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

let image: string;
/**
 * A test of a running manager: each of its waits (a log line, the exit) is bounded by itself at two minutes, with the
 * container's log; together they may take longer on a loaded machine than the file's default 120 s.
 */
const MANAGER_TEST_TIMEOUT_MS = 300_000;

describe.skipIf(MOTO_MISSING !== undefined)('runner-manager image: settings parameter (moto as SSM)', () => {
  let contextDir: string;
  let moto: Moto;
  const containers: string[] = [];

  beforeAll(async () => {
    removeOurContainers();
    moto = await startMoto();
    const base = await testNodeBaseImage();
    contextDir = await mkdtemp(join(tmpdir(), 'runner-manager-context-'));
    const context = await assembleRunnerManagerContext({ outDir: contextDir, configPackageDir: CONFIG_PACKAGE_DIR });
    image = await buildImage(contextDir, 'gitlab-fargate-test/runner-manager:offline', { BASE_IMAGE: base, INSTALL_GITLAB_RUNNER: 'false', ...context.buildArgs });
  });
  afterEach(() => {
    for (const container of containers.splice(0)) docker(['rm', '-f', container]);
  });
  afterAll(async () => {
    await moto?.stop();
    if (contextDir) await rm(contextDir, { recursive: true, force: true });
  });

  /** A fresh parameter holding `settings`, and the environment naming it. */
  async function parameter(settings: Record<string, string>): Promise<{ name: string; env: Record<string, string> }> {
    const name = `/gitlab-fargate-test/${randomBytes(6).toString('hex')}/manager-settings`;
    await putParameter(moto.endpoint, name, JSON.stringify(settings));
    return { name, env: { ...TASK_ENVIRONMENT, GITLAB_FARGATE_SETTINGS_PARAMETER: name, AWS_ENDPOINT_URL_SSM: moto.endpoint } };
  }

  /** Starts the manager in the background on the host's network (moto listens on 127.0.0.1). */
  function startManager(env: Record<string, string>): string {
    const started = docker(['run', '-d', '--network', 'host', ...labels, ...envArgs(env), image, ...STAND_IN_GITLAB_RUNNER]);
    expect(started.code, started.stderr).toBe(0);
    const container = started.stdout.trim();
    containers.push(container);
    return container;
  }
  const logs = (container: string): string => {
    const result = docker(['logs', container]);
    return result.stdout + result.stderr;
  };
  const logsOnceContaining = (container: string, text: string): Promise<string> =>
    waitFor(
      `"${text}" in the container's log`,
      () => {
        const all = logs(container);
        return all.includes(text) ? all : undefined;
      },
      () => `the container's log:\n${logs(container)}`,
    );
  const exec = (container: string, ...command: string[]): string => {
    const result = docker(['exec', container, ...command]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };
  /** The container's exit status once it ended; fails after two minutes with its log. */
  const exitStatus = (container: string): string => {
    try {
      return docker(['wait', container], { timeoutMs: 120_000 }).stdout.trim();
    } catch (error) {
      throw new Error(`${(error as Error).message}\nthe container's log:\n${logs(container)}`);
    }
  };
  const fileFacts = (container: string): string => exec(container, 'stat', '-c', '%i %a %U %G %n', DRIVER, CONFIG).trim();
  const standInAlive = (container: string, pid: string): boolean => docker(['exec', container, 'kill', '-0', pid]).code === 0;

  it('applies the parameter at start and re-renders both files in place when it changes, gitlab-runner untouched', async () => {
    const { name, env } = await parameter({ GITLAB_FARGATE_MANAGER_VERSION: 'v1', CONCURRENT: '3', RUNNER_TAGS: 'dev' });
    const container = startManager(env);
    await logsOnceContaining(container, `watching SSM parameter ${name} every 1 s`);
    await logsOnceContaining(container, 'stand-in gitlab-runner: running as gitlab-runner');
    const pid = exec(container, 'cat', PID_FILE).trim();
    // The parameter's CONCURRENT (3) wins over the task definition's (4).
    expect(parseRunnerConfig(exec(container, 'cat', CONFIG)).config.concurrent).toBe(3);
    const before = fileFacts(container).split('\n');

    await putParameter(moto.endpoint, name, JSON.stringify({ GITLAB_FARGATE_MANAGER_VERSION: 'v1', CONCURRENT: '6', RUNNER_TAGS: 'dev,arm64', MAX_CPU: '2048' }));
    await logsOnceContaining(container, 'applied (changed: CONCURRENT, MAX_CPU, RUNNER_TAGS); re-rendered /etc/gitlab-runner/fargate.toml and /etc/gitlab-runner/config.toml');

    const runnerToml = exec(container, 'cat', CONFIG);
    expect(parseRunnerConfig(runnerToml).config.concurrent).toBe(6);
    expect(parseRunnerConfig(runnerToml).config.runners[0]?.token).toBe(RUNNER_TOKEN);
    expect(runnerToml).toContain('dev, arm64');
    expect(parseDriverConfig(exec(container, 'cat', DRIVER)).config.overrides.maxCpu).toBe(2048);
    const after = fileFacts(container).split('\n');
    for (const [index, line] of after.entries()) {
      const [inode, ...rest] = line.split(' ');
      const [inodeBefore, ...restBefore] = (before[index] ?? '').split(' ');
      expect(rest.join(' ')).toBe(restBefore.join(' ')); // mode 600, owner and group gitlab-runner, same path
      expect(rest.slice(0, 2).join(' ')).toBe('600 gitlab-runner');
      expect(inode).not.toBe(inodeBefore); // replaced by a rename, never rewritten in place
    }
    expect(standInAlive(container, pid)).toBe(true);
    expect(exec(container, 'cat', PID_FILE).trim()).toBe(pid);
    expect(logs(container)).not.toContain('SIGQUIT, exiting 0');
    expect(logs(container)).not.toContain(RUNNER_TOKEN);
  }, MANAGER_TEST_TIMEOUT_MS);

  it('logs a malformed value, re-renders nothing and keeps running', async () => {
    const { name, env } = await parameter({ CONCURRENT: '3' });
    const container = startManager(env);
    await logsOnceContaining(container, `watching SSM parameter ${name}`);
    await logsOnceContaining(container, 'stand-in gitlab-runner: running');
    const pid = exec(container, 'cat', PID_FILE).trim();
    const before = [fileFacts(container), exec(container, 'cat', CONFIG), exec(container, 'cat', DRIVER)];

    await putParameter(moto.endpoint, name, '{"CONCURRENT": "6"');
    const all = await logsOnceContaining(container, 'is not valid JSON');
    expect(all).toMatch(/runner-manager: SSM parameter \S+ \(version 2\) is not valid JSON .*; nothing re-rendered, the current configuration stays/);
    expect([fileFacts(container), exec(container, 'cat', CONFIG), exec(container, 'cat', DRIVER)]).toEqual(before);
    expect(standInAlive(container, pid)).toBe(true);
  }, MANAGER_TEST_TIMEOUT_MS);

  it('drains when the parameter names another manager version: SIGQUIT to gitlab-runner, then the container exits 0', async () => {
    const { name, env } = await parameter({ GITLAB_FARGATE_MANAGER_VERSION: 'v1' });
    const container = startManager(env);
    await logsOnceContaining(container, `watching SSM parameter ${name}`);
    await logsOnceContaining(container, 'stand-in gitlab-runner: running');

    await putParameter(moto.endpoint, name, JSON.stringify({ GITLAB_FARGATE_MANAGER_VERSION: 'v2' }));
    const waited = exitStatus(container);
    const all = logs(container);
    expect(waited, all).toBe('0');
    expect(all).toContain('names manager version v2, this manager is v1: draining (SIGQUIT to gitlab-runner');
    expect(all).toContain('stand-in gitlab-runner: SIGQUIT, exiting 0');
  }, MANAGER_TEST_TIMEOUT_MS);

  it('does not start gitlab-runner while the parameter names another version, and starts it once it names this one', async () => {
    const { name, env } = await parameter({ GITLAB_FARGATE_MANAGER_VERSION: 'v0', CONCURRENT: '2' });
    const container = startManager(env);
    await logsOnceContaining(container, `${name} names manager version v0, this manager is v1: not starting gitlab-runner`);
    expect(logs(container)).not.toContain('stand-in gitlab-runner');
    await putParameter(moto.endpoint, name, JSON.stringify({ GITLAB_FARGATE_MANAGER_VERSION: 'v1', CONCURRENT: '5' }));
    await logsOnceContaining(container, 'stand-in gitlab-runner: running as gitlab-runner');
    expect(parseRunnerConfig(exec(container, 'cat', CONFIG)).config.concurrent).toBe(5);
  }, MANAGER_TEST_TIMEOUT_MS);

  it('ends at once with exit 0 when stopped (SIGQUIT, the image’s stop signal) while it waits for its version', async () => {
    const { name, env } = await parameter({ GITLAB_FARGATE_MANAGER_VERSION: 'v0' });
    const container = startManager(env);
    await logsOnceContaining(container, `${name} names manager version v0, this manager is v1: not starting gitlab-runner`);
    expect(docker(['stop', '--time', '60', container], { timeoutMs: 90_000 }).code).toBe(0);
    // Killed when the 60 s ran out, it would show 137: the stop signal itself ended it.
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', container]).stdout.trim()).toBe('0');
    expect(logs(container)).toContain('runner-manager: stop signal while waiting to start: exiting, gitlab-runner was never started');
    expect(logs(container)).not.toContain('stand-in gitlab-runner');
  }, MANAGER_TEST_TIMEOUT_MS);

  it('refuses to start with a parameter it cannot use, before running the command', async () => {
    const { env } = await parameter({ RUNNER_TOKEN: 'glrt-not-here', CONCURRENT: '2' });
    const result = dockerRun(image, ['--network', 'host', ...envArgs(env)], ['echo', 'COMMAND RAN']);
    expect(result.code).toBe(EXIT_MISCONFIGURED);
    expect(result.stdout).not.toContain('COMMAND RAN');
    expect(result.stderr).toContain('"RUNNER_TOKEN" cannot come from the parameter (a secret: it stays in Secrets Manager');
  });

  it('refuses a malformed poll interval at start', async () => {
    const { env } = await parameter({ CONCURRENT: '2' });
    const result = dockerRun(image, ['--network', 'host', ...envArgs({ ...env, GITLAB_FARGATE_SETTINGS_POLL_SECONDS: '30s' })], ['echo', 'COMMAND RAN']);
    expect(result.code).toBe(EXIT_MISCONFIGURED);
    expect(result.stderr).toContain('GITLAB_FARGATE_SETTINGS_POLL_SECONDS is "30s": give a whole number of seconds from 1 to 86400');
    expect(result.stdout).not.toContain('COMMAND RAN');
  });

  describe('behind a private CA', () => {
    let dir: string;
    let proxy: Server | undefined;
    afterEach(async () => {
      proxy?.close();
      proxy = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A throwaway CA, and a certificate it signed for 127.0.0.1, made with openssl in `dir`. */
    async function privateCa(): Promise<{ caPem: string; key: string; cert: string }> {
      dir = await mkdtemp(join(tmpdir(), 'runner-manager-private-ca-'));
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];
      for (const args of [
        ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=gitlab-fargate test CA'],
        ['req', '-x509', ...ec, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-keyout', 'ssm.key', '-out', 'ssm.crt', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ]) {
        const made = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
        expect(made.status, made.stderr).toBe(0);
      }
      const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8');
      return { caPem: (await read('ca.crt')).trim(), key: await read('ssm.key'), cert: await read('ssm.crt') };
    }

    // An SSM endpoint whose certificate only the private CA vouches for (e.g. an interface endpoint behind a TLS
    // proxy): the start reads the parameter over it, so the CA must be installed before the read.
    it('reads the parameter at start over TLS that only the private CA trusts', async () => {
      const { caPem, key, cert } = await privateCa();
      proxy = createHttpsServer({ key, cert }, (incoming, outgoing) => {
        const upstream = request(`${moto.endpoint}${incoming.url ?? '/'}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        });
        incoming.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy?.listen(0, '127.0.0.1', resolve));
      const { env } = await parameter({ CONCURRENT: '3' });
      const endpoint = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const result = await dockerRunAsync(
        ['--network', 'host', ...envArgs({ ...env, AWS_ENDPOINT_URL_SSM: endpoint, CA_CERTIFICATES_PEM: caPem })],
        ['sh', '-c', 'echo "CONCURRENT=$CONCURRENT"'],
      );
      expect(result.stderr).toContain('runner-manager: installed the private CA from CA_CERTIFICATES_PEM');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('CONCURRENT=3\n');
    });
  });

  describe('GITLAB_FARGATE_MANAGER_ID', () => {
    let server: Server | undefined;
    afterEach(() => {
      server?.close();
      server = undefined;
    });
    const taskId = randomBytes(16).toString('hex');
    const printId = ['sh', '-c', 'echo "$GITLAB_FARGATE_MANAGER_ID"'];
    const { GITLAB_FARGATE_MANAGER_VERSION: _v, GITLAB_FARGATE_SETTINGS_POLL_SECONDS: _p, ...plain } = TASK_ENVIRONMENT;

    it('is the ECS task ID from the task metadata endpoint, in the command’s environment', async () => {
      // Plays ECS's task metadata endpoint v4 on 127.0.0.1 (the container shares the host's network).
      server = createServer((request, response) => {
        const arn = `arn:aws:ecs:${TEST_REGION}:123456789012:task/gitlab-ci-dev/${taskId}`;
        response.writeHead(request.url === '/v4/meta/task' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ TaskARN: arn }));
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/meta`;
      const result = await dockerRunAsync(['--network', 'host', ...envArgs({ ...plain, ECS_CONTAINER_METADATA_URI_V4: uri })], printId);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`${taskId}\n`);
      expect(result.stderr).toContain(`runner-manager: manager ID (GITLAB_FARGATE_MANAGER_ID) ${taskId}: the ECS task ID`);
    });

    it('is the host name outside ECS, saying so', () => {
      const result = dockerRun(image, ['--network', 'host', ...envArgs(plain)], printId);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`${hostname()}\n`);
      expect(result.stderr).toContain('ECS_CONTAINER_METADATA_URI_V4 is not set (not an ECS task)');
    });

    it('stops the start when the endpoint is set but does not answer, rather than tag job tasks wrongly', () => {
      const result = dockerRun(image, ['--network', 'host', ...envArgs({ ...plain, ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:9/v4/x' })], ['echo', 'COMMAND RAN']);
      expect(result.code).toBe(1);
      expect(result.stdout).not.toContain('COMMAND RAN');
      expect(result.stderr).toContain("cannot find this manager's ECS task ID at http://127.0.0.1:9/v4/x/task");
    });
  });
});
