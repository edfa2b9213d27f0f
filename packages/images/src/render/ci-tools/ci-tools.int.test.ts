import ssh2 from 'ssh2';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCiTools } from '../../../test/ci-tools.js';
import { removeOurContainers, TEST_LABELS } from '../../../test/docker.js';
import { connect, ed25519KeyPair, exec } from '../../../test/ssh.js';
import { CI_TOOLS_COMMANDS, CI_TOOLS_DEFAULTS, CI_TOOLS_NODE_VERSION } from '../../spec/ci-tools.js';

/** A project with no dependencies: what `npm ci --ignore-scripts` of the pipeline's jobs needs, offline. */
const EMPTY_PROJECT = {
  'package.json': JSON.stringify({ name: 'probe', version: '1.0.0', private: true }),
  'package-lock.json': JSON.stringify({
    name: 'probe',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'probe', version: '1.0.0' } },
  }),
};

describe('ci-tools image (the pipeline job image, default spec, on a test fixture Node.js base)', () => {
  const keys = ed25519KeyPair();
  let container: StartedTestContainer;
  let client: ssh2.Client;

  beforeAll(async () => {
    removeOurContainers();
    const image = await buildCiTools('gitlab-fargate-test/ci-tools:latest');
    // No added capabilities or privileges: no more than a Fargate task gets.
    container = await new GenericContainer(image)
      .withEnvironment({ SSH_PUBLIC_KEY: keys.public })
      .withExposedPorts(22)
      .withLabels(TEST_LABELS)
      .withWaitStrategy(Wait.forLogMessage(/Server listening on 0\.0\.0\.0 port 22/))
      // Minutes only on a machine loaded far past its cores; testcontainers' default is one.
      .withStartupTimeout(180_000)
      .start();
    client = await connect({ host: '127.0.0.1', port: container.getMappedPort(22), username: 'root', privateKey: keys.private });
  });

  afterAll(async () => {
    client?.end();
    await container?.stop();
  });

  it("has every command the pipeline's jobs call on an SSH session's PATH, Node.js at the spec's version", async () => {
    const lookup = await exec(client, 'bash -s', CI_TOOLS_COMMANDS.map((name) => `command -v ${name} || echo "missing ${name}"`).join('\n'));
    expect(lookup.stdout).not.toContain('missing');
    expect(lookup.stdout.trim().split('\n')).toHaveLength(CI_TOOLS_COMMANDS.length);
    const versions = await exec(client, 'bash -s', 'node --version\nnpm --version\nnpx --version\ngit --version\n');
    expect(versions.code).toBe(0);
    expect(versions.stdout.split('\n')[0]).toBe(`v${CI_TOOLS_NODE_VERSION}`);
    expect(CI_TOOLS_DEFAULTS.baseImage).toBe(`node:${CI_TOOLS_NODE_VERSION}-bookworm-slim`);
  });

  it("runs the jobs' install step and git as the jobs do", async () => {
    const files = Object.entries(EMPTY_PROJECT).map(([name, text]) => `printf '%s' '${text}' > ${name}`);
    const script = [
      'set -e',
      'cd "$(mktemp -d)"',
      ...files,
      'test -d node_modules || npm ci --ignore-scripts --no-audit --no-fund --offline',
      'git init -q . && git add -A && git -c user.email=a@b -c user.name=ci commit -qm probe',
      'git diff --exit-code && echo clean',
    ].join('\n');
    const result = await exec(client, 'bash -s', script);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/clean\n$/);
  });

  it('has the tools the tests of the build jobs call (gpg, ssh, openssl, ps, rsync, shellcheck)', async () => {
    const tools = ['gpg', 'ssh', 'openssl', 'ps', 'rsync', 'shellcheck'];
    const result = await exec(client, 'bash -s', tools.map((name) => `command -v ${name} || echo "missing ${name}"`).join('\n'));
    expect(result.stdout).not.toContain('missing');
  });
});
