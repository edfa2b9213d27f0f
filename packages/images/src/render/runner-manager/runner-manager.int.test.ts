import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDriverConfig, parseRunnerConfig } from '@gitlab-fargate/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configCliStatus } from '../../../test/config-cli.js';
import { buildImage, docker, dockerRun, removeOurContainers, TEST_LABELS } from '../../../test/docker.js';
import { productionNodeVersion, testNodeBaseImage } from '../../../test/node-base-image.js';
import { CONFIG_PACKAGE_DIR } from '../../../test/paths.js';
import { assembleRunnerManagerContext } from '../../context/runner-manager-context.js';
import { resolveRunnerManagerSpec } from '../../spec/runner-manager.js';
import { EXIT_MISCONFIGURED, RELAYED_DRIVER_LOG_DIR, RELAYED_DRIVER_LOG_FILE, runnerManagerEntrypoint } from './entrypoint.js';
import { RUNNER_IDENTITY_VARIABLE } from './runner-identity.js';

const configCli = configCliStatus();
if (!configCli.ready) {
  console.warn(`runner-manager image tests skipped: ${configCli.reason}`);
}

/** The random part of the runner token, after its `glrt-t1_` prefixes. */
const TOKEN_BODY = randomBytes(15).toString('base64url');
/** A made-up runner authentication token, random per run so that finding it anywhere means it leaked. */
const RUNNER_TOKEN = `glrt-t1_${TOKEN_BODY}`;
/** The short token GitLab shows for such a token: its first 9 characters after the prefixes. */
const SHORT_TOKEN = TOKEN_BODY.slice(0, 9);

/** What a task definition gives the manager container (the token as an ECS secret, the rest as environment). */
const MANAGER_ENVIRONMENT = {
  CLUSTER: 'gitlab-ci-dev',
  REGION: 'eu-west-1',
  SUBNETS: 'subnet-0a1b2c3d4e5f60718,subnet-1a2b3c4d5e6f70819',
  SECURITY_GROUP_IDS: 'sg-0123456789abcdef0',
  TASK_DEFINITION: 'gitlab-ci-dev-job:7',
  GITLAB_URL: 'https://gitlab.example.com/',
  RUNNER_NAME: 'fargate-dev',
  RUNNER_TAGS: 'dev',
  CONCURRENT: '4',
};

const SEPARATOR = '-----8<-----';

/** Prints both rendered files, their modes and owner, and the command's own environment and user. */
const INSPECT = [
  'sh',
  '-c',
  `cat "$DRIVER_CONFIG_PATH"; echo "${SEPARATOR}"; cat "$RUNNER_CONFIG_PATH"; echo "${SEPARATOR}"; ` +
    `stat -c "%a %U %n" "$DRIVER_CONFIG_PATH" "$RUNNER_CONFIG_PATH"; id -un; echo "${SEPARATOR}"; env`,
];

function envArgs(environment: Record<string, string>): string[] {
  return Object.entries(environment).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
}

describe.skipIf(!configCli.ready)('runner-manager image', () => {
  let image: string;
  let contextDir: string;

  beforeAll(async () => {
    removeOurContainers();
    const base = await testNodeBaseImage();
    contextDir = await mkdtemp(join(tmpdir(), 'runner-manager-context-'));
    // No driver bundle yet (the driver package does not publish one): DRIVER_BUNDLE= leaves it out.
    const context = await assembleRunnerManagerContext({ outDir: contextDir, configPackageDir: CONFIG_PACKAGE_DIR });
    expect(context.buildArgs).toEqual({ DRIVER_BUNDLE: '' });
    image = await buildImage(contextDir, 'gitlab-fargate-test/runner-manager:offline', {
      BASE_IMAGE: base,
      INSTALL_GITLAB_RUNNER: 'false',
      ...context.buildArgs,
    });
  });

  afterAll(async () => {
    if (contextDir) {
      await rm(contextDir, { recursive: true, force: true });
    }
  });

  it('runs its CLIs on the Node.js line of its production base (node:22-bookworm-slim)', () => {
    const result = dockerRun(image, ['--entrypoint', 'node'], ['--version']);
    expect(result.stdout.trim()).toBe(`v${productionNodeVersion()}`);
    expect(productionNodeVersion()).toMatch(/^22\./);
  });

  it('renders a driver TOML and a config.toml that the config package validates', () => {
    const result = dockerRun(image, envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN }), INSPECT);
    expect(result.stderr).toContain('runner-manager: rendered /etc/gitlab-runner/fargate.toml and /etc/gitlab-runner/config.toml');
    expect(result.code).toBe(0);
    const [driverToml = '', runnerToml = '', modes = '', commandEnv = ''] = result.stdout.split(`${SEPARATOR}\n`);

    const driver = parseDriverConfig(driverToml).config;
    expect(driver.fargate).toMatchObject({
      cluster: 'gitlab-ci-dev',
      region: 'eu-west-1',
      subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-1a2b3c4d5e6f70819'],
      securityGroups: ['sg-0123456789abcdef0'],
      taskDefinition: 'gitlab-ci-dev-job:7',
    });
    expect(driver.taskMetadata.directory).toBe('/opt/gitlab-runner/metadata');

    const runner = parseRunnerConfig(runnerToml).config;
    expect(runner.concurrent).toBe(4);
    const [entry] = runner.runners;
    expect(entry).toMatchObject({ name: 'fargate-dev', url: 'https://gitlab.example.com/', token: RUNNER_TOKEN, executor: 'custom' });
    expect(entry?.custom.runExec).toBe('/usr/local/bin/gitlab-fargate-driver');
    expect(entry?.custom.runArgs).toContain('/etc/gitlab-runner/fargate.toml');

    // Mode 0600, handed to the user gitlab-runner runs as; the command runs as that user, without the token.
    expect(modes).toBe('600 gitlab-runner /etc/gitlab-runner/fargate.toml\n600 gitlab-runner /etc/gitlab-runner/config.toml\ngitlab-runner\n');
    expect(commandEnv).not.toContain(RUNNER_TOKEN);
    expect(commandEnv).not.toMatch(/^RUNNER_TOKEN=/m);
    // The driver's trusted runner identity reaches the command (gitlab-runner, which hands it to the driver).
    expect(commandEnv).toMatch(new RegExp(`^${RUNNER_IDENTITY_VARIABLE}=${SHORT_TOKEN}$`, 'm'));
    expect(result.stderr).toContain(`runner-manager: runner identity (${RUNNER_IDENTITY_VARIABLE}) derived from RUNNER_TOKEN: ${SHORT_TOKEN}`);
  });

  it('keeps a runner identity given to the container over the one derived from the token', () => {
    const result = dockerRun(
      image,
      envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN, [RUNNER_IDENTITY_VARIABLE]: 'given1234' }),
      ['sh', '-c', `echo "$${RUNNER_IDENTITY_VARIABLE}"; id -un`],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('given1234\ngitlab-runner\n');
  });

  it('shows what it rendered without the token through the command its entrypoint advises', () => {
    const advised = /^#\s+(gitlab-fargate-config validate --print .*)$/m.exec(runnerManagerEntrypoint(resolveRunnerManagerSpec()))?.[1];
    expect(advised).toBe('gitlab-fargate-config validate --print /etc/gitlab-runner/config.toml /etc/gitlab-runner/fargate.toml');
    const result = dockerRun(image, envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN }), (advised ?? '').split(' '));
    expect(result.stderr).not.toContain(RUNNER_TOKEN);
    expect(result.code, result.stderr).toBe(0);
    // Both files, normalized: the runner's URL and the driver's cluster, but no token.
    expect(result.stdout).toContain('"https://gitlab.example.com/"');
    expect(result.stdout).toContain('"gitlab-ci-dev"');
    expect(result.stdout).not.toContain(RUNNER_TOKEN);
    expect(result.stdout).not.toMatch(/glrt-/);
  });

  it('reads the token from RUNNER_TOKEN_FILE (a mounted secret)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runner-token-'));
    try {
      await writeFile(join(dir, 'token'), `${RUNNER_TOKEN}\n`, { mode: 0o644 });
      const result = dockerRun(
        image,
        [...envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN_FILE: '/run/secrets/runner-token' }), '-v', `${join(dir, 'token')}:/run/secrets/runner-token:ro`],
        ['sh', '-c', 'cat "$RUNNER_CONFIG_PATH"'],
      );
      expect(result.code).toBe(0);
      expect(parseRunnerConfig(result.stdout).config.runners[0]?.token).toBe(RUNNER_TOKEN);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('private CA', () => {
    let pem: string;
    let caDir: string;
    /** Counts the CA in the system bundle (by a line of its base64 body) and shows NODE_EXTRA_CA_CERTS. */
    const lookForCa = (): string[] => [
      'sh',
      '-c',
      'grep -c -F -e "$1" /etc/ssl/certs/ca-certificates.crt; echo "$NODE_EXTRA_CA_CERTS"',
      'sh',
      pem.split('\n')[1] ?? '',
    ];

    beforeAll(async () => {
      const made = spawnSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=gitlab-fargate test CA', '-days', '1'],
        { encoding: 'utf8' },
      );
      expect(made.status, made.stderr).toBe(0);
      pem = made.stdout.trim();
      caDir = await mkdtemp(join(tmpdir(), 'runner-ca-'));
      await writeFile(join(caDir, 'ca.crt'), `${pem}\n`, { mode: 0o644 });
    });
    afterAll(async () => {
      await rm(caDir, { recursive: true, force: true });
    });

    it('installs one given as CA_CERTIFICATES_PEM into the system store and for Node.js', () => {
      const result = dockerRun(image, envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN, CA_CERTIFICATES_PEM: pem }), lookForCa());
      expect(result.stderr).toContain('runner-manager: installed the private CA from CA_CERTIFICATES_PEM');
      expect(result.stdout).toBe('1\n/usr/local/share/ca-certificates/gitlab-fargate-private-ca.crt\n');
      expect(result.code).toBe(0);
    });

    it('installs one mounted read-only at /etc/gitlab-runner/certs/ca.crt, as with GitLab’s runner image', () => {
      const result = dockerRun(
        image,
        [...envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN }), '-v', `${caDir}:/etc/gitlab-runner/certs:ro`],
        lookForCa(),
      );
      expect(result.stderr).toContain('runner-manager: installed the private CA from /etc/gitlab-runner/certs/ca.crt');
      expect(result.stdout).toBe('1\n/usr/local/share/ca-certificates/gitlab-fargate-private-ca.crt\n');
      expect(result.code).toBe(0);
    });
  });

  it('stops before running the command when a setting is missing, with the config CLI’s explanation', () => {
    const { CLUSTER: _omitted, ...withoutCluster } = MANAGER_ENVIRONMENT;
    const result = dockerRun(image, envArgs({ ...withoutCluster, RUNNER_TOKEN }), ['echo', 'COMMAND RAN']);
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain('COMMAND RAN');
    expect(result.stderr).toMatch(/CLUSTER/);
  });

  it('warns that REGISTRATION_TOKEN is deprecated, and says why it cannot register in this image', () => {
    const result = dockerRun(image, envArgs({ ...MANAGER_ENVIRONMENT, REGISTRATION_TOKEN: 'GR1348941legacy' }), ['echo', 'COMMAND RAN']);
    expect(result.stderr).toContain("warning: REGISTRATION_TOKEN uses GitLab's deprecated registration flow");
    expect(result.stderr).toContain('gitlab-runner is not installed in this image (built with INSTALL_GITLAB_RUNNER=false)');
    expect(result.code).toBe(EXIT_MISCONFIGURED);
    expect(result.stdout).not.toContain('COMMAND RAN');
  });

  it('refuses to run gitlab-runner in an image built without it or the driver, also for `run` options', () => {
    // No command means `gitlab-runner run`; arguments starting with "-" are options for it.
    for (const command of [[], ['--listen-address', ':9252']]) {
      const result = dockerRun(image, envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN }), command);
      expect(result.code, command.join(' ')).toBe(EXIT_MISCONFIGURED);
      expect(result.stderr).toContain('gitlab-runner is not installed in this image (built with INSTALL_GITLAB_RUNNER=false)');
    }
  });

  it('keeps tokens out of the image: neither its history nor its configuration holds one', () => {
    const history = docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', image]);
    const inspect = docker(['image', 'inspect', image]);
    expect(history.code).toBe(0);
    expect(inspect.code).toBe(0);
    for (const text of [history.stdout, inspect.stdout]) {
      expect(text).not.toContain(RUNNER_TOKEN);
      expect(text).not.toMatch(/glrt-|GR1348941|TOKEN|SUBNET|SECURITY_GROUP|RUNNER_TAGS/);
    }
    // The only environment the image carries is paths.
    const env = JSON.parse(inspect.stdout)[0].Config.Env as string[];
    expect(env.filter((entry) => !entry.startsWith('PATH=')).map((entry) => entry.split('=')[0])).toEqual([
      'RUNNER_CONFIG_PATH',
      'DRIVER_CONFIG_PATH',
      'DRIVER_PATH',
      'METADATA_DIR',
    ]);
  });

  describe('driver log relay', () => {
    /** Polls `probe` until it returns something; fails saying `what` did not happen within two minutes, with the log. */
    const waitFor = async (container: string, what: string, probe: () => string | undefined): Promise<string> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const value = probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) {
          const logs = docker(['logs', container]);
          throw new Error(`${what} did not happen within 120 s; the container's log:\n${logs.stdout}${logs.stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    /** The user the log follower runs as, found by its command line in the container; empty while it is not running. */
    const FOLLOWER_USER = [
      'sh',
      '-c',
      'for p in /proc/[0-9]*; do [ "$(tr "\\0" " " <"$p/cmdline" 2>/dev/null)" = "tail -F -n 0 -- $1 " ] && stat -c %U "$p"; done; true',
      'sh',
      RELAYED_DRIVER_LOG_FILE,
    ];

    it('copies each line appended to the driver log to the container’s stdout, as a line of its own', async () => {
      const labels = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
      const started = docker(['run', '-d', ...labels, ...envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN }), image, 'sleep', 'infinity']);
      expect(started.code, started.stderr).toBe(0);
      const container = started.stdout.trim();
      try {
        const followerUser = await waitFor(container, 'the log follower starting', () => docker(['exec', container, ...FOLLOWER_USER]).stdout.trim() || undefined);
        expect(followerUser).toBe('gitlab-runner');

        const driverToml = docker(['exec', container, 'cat', '/etc/gitlab-runner/fargate.toml']);
        expect(parseDriverConfig(driverToml.stdout).config.logFile).toBe(RELAYED_DRIVER_LOG_FILE);
        const modes = docker(['exec', container, 'stat', '-c', '%a %U %F %n', RELAYED_DRIVER_LOG_DIR, RELAYED_DRIVER_LOG_FILE]);
        expect(modes.stdout).toBe(`700 gitlab-runner directory ${RELAYED_DRIVER_LOG_DIR}\n600 gitlab-runner regular empty file ${RELAYED_DRIVER_LOG_FILE}\n`);

        // An embedded-metric-format line as the driver's cleanup writes it, appended by the user the driver runs as.
        const emf = JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [] }, msg: 'job metrics', marker: randomBytes(8).toString('hex') });
        const appended = docker(['exec', '-u', 'gitlab-runner', container, 'sh', '-c', 'printf "%s\\n" "$1" >>"$2"', 'sh', emf, RELAYED_DRIVER_LOG_FILE]);
        expect(appended.code, appended.stderr).toBe(0);
        const stdout = await waitFor(container, 'the line reaching the container’s stdout', () => {
          const logs = docker(['logs', container]).stdout;
          return logs.includes(emf) ? logs : undefined;
        });
        expect(stdout.split('\n')).toContain(emf);

        // The driver rotates the file by renaming it to driver.log.1 and creating a new one: the follower goes by name.
        const afterRotation = `after rotation ${randomBytes(8).toString('hex')}`;
        const rotated = docker(['exec', '-u', 'gitlab-runner', container, 'sh', '-c', 'mv "$2" "$2.1" && printf "%s\\n" "$1" >>"$2"', 'sh', afterRotation, RELAYED_DRIVER_LOG_FILE]);
        expect(rotated.code, rotated.stderr).toBe(0);
        const followed = await waitFor(container, 'the new file’s line reaching the container’s stdout', () => {
          const logs = docker(['logs', container]).stdout;
          return logs.includes(afterRotation) ? logs : undefined;
        });
        expect(followed.split('\n')).toContain(afterRotation);

        // SIGQUIT (the image's stop signal) goes to the command alone; the follower does not keep the container up.
        expect(docker(['stop', '--time', '60', container]).code).toBe(0);
        expect(docker(['inspect', '--format', '{{.State.ExitCode}}', container]).stdout.trim()).toBe(String(128 + 3));
      } finally {
        docker(['rm', '-f', container]);
      }
      // Three waits of up to two minutes each and a stop of up to one: more than the file's default on a loaded machine.
    }, 480_000);

    it('keeps the driver on stderr with LOG_FILE="", and uses any other LOG_FILE as it is, without relaying it', () => {
      for (const logFile of ['', '/tmp/driver.log']) {
        const result = dockerRun(image, envArgs({ ...MANAGER_ENVIRONMENT, RUNNER_TOKEN, LOG_FILE: logFile }), [
          'sh',
          '-c',
          `cat "$DRIVER_CONFIG_PATH"; echo "${SEPARATOR}"; ls -A /var/log`,
        ]);
        expect(result.code, result.stderr).toBe(0);
        const [driverToml = '', varLog = ''] = result.stdout.split(`${SEPARATOR}\n`);
        // "" reads back as not set: the driver's default, stderr.
        expect(parseDriverConfig(driverToml).config.logFile, logFile).toBe(logFile || undefined);
        expect(varLog.split('\n'), logFile).not.toContain('gitlab-fargate');
        expect(result.stderr, logFile).not.toContain('relaying');
      }
    });
  });
});
