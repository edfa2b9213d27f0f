import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARM64_PLATFORM, ARM64_TESTS, ensureArm64Engine, LOCAL_ARM64_BASE_IMAGE, testArm64NodeBaseImage } from '../../test/arm64.js';
import { configCliStatus } from '../../test/config-cli.js';
import { buildImage, docker, TEST_LABELS } from '../../test/docker.js';
import { CONFIG_PACKAGE_DIR, REPO_ROOT } from '../../test/paths.js';
import { connect, ed25519KeyPair, exec } from '../../test/ssh.js';
import { assembleRunnerManagerContext } from '../context/runner-manager-context.js';
import { generateImages, writeGeneratedFiles } from '../generate.js';

// Both generated images built for linux/arm64 under qemu, unchanged: their Dockerfiles name no architecture.
// Slow (minutes the first time), so only with GITLAB_FARGATE_ARM64_TESTS=1, which .ci/run sets.
const BUILD_TIMEOUT_MS = 1_800_000;
/**
 * Runs under qemu: a container's start, an SSH handshake or a Node.js start take seconds idle and far longer on a
 * machine loaded past its cores (the emulated code competes for the same two cores). Each wait is bounded by this.
 */
const EMULATED_RUN_TIMEOUT_MS = 600_000;
const DRIVER_DIR = join(REPO_ROOT, 'packages/driver');
const DRIVER_BUNDLE = join(DRIVER_DIR, 'dist/gitlab-fargate-driver.mjs');

const imagePlatform = (image: string) => docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', image]).stdout.trim();

describe.runIf(ARM64_TESTS)('ci-coordinator built for linux/arm64', () => {
  const keys = ed25519KeyPair();
  let image: string;
  let container: StartedTestContainer;
  let client: ssh2.Client;

  beforeAll(async () => {
    ensureArm64Engine();
    const dir = await mkdtemp(join(tmpdir(), 'ci-coordinator-arm64-'));
    try {
      const files = generateImages({ ciCoordinator: {} })
        .filter((file) => file.path.startsWith('ci-coordinator/'))
        .map((file) => ({ ...file, path: file.path.slice('ci-coordinator/'.length) }));
      await writeGeneratedFiles(dir, files);
      const buildArgs = { BASE_IMAGE: LOCAL_ARM64_BASE_IMAGE, INSTALL_GITLAB_RUNNER: 'false' };
      const started = Date.now();
      image = await buildImage(dir, 'gitlab-fargate-test/ci-coordinator:arm64', buildArgs, ARM64_PLATFORM);
      console.log(`ci-coordinator arm64 build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    container = await new GenericContainer(image)
      .withPlatform(ARM64_PLATFORM)
      .withEnvironment({ SSH_PUBLIC_KEY: keys.public })
      .withExposedPorts(22)
      .withLabels(TEST_LABELS)
      .withWaitStrategy(Wait.forLogMessage(/Server listening on 0\.0\.0\.0 port 22/))
      .withStartupTimeout(EMULATED_RUN_TIMEOUT_MS)
      .start();
    client = await connect({
      host: '127.0.0.1',
      port: container.getMappedPort(22),
      username: 'root',
      privateKey: keys.private,
      readyTimeout: EMULATED_RUN_TIMEOUT_MS,
    });
  }, BUILD_TIMEOUT_MS + 2 * EMULATED_RUN_TIMEOUT_MS);

  afterAll(async () => {
    client?.end();
    await container?.stop();
  });

  it('is recorded as linux/arm64 and answers SSH as an aarch64 machine', async () => {
    expect(imagePlatform(image)).toBe(ARM64_PLATFORM);
    const result = await exec(client, 'uname -m; git --version');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^aarch64\ngit version /);
  }, EMULATED_RUN_TIMEOUT_MS);
});

const configCli = configCliStatus();

describe.runIf(ARM64_TESTS && configCli.ready)('runner-manager built for linux/arm64', () => {
  let image: string;
  let contextDir: string;

  beforeAll(async () => {
    ensureArm64Engine();
    // The single-file bundle the image ships, made from the driver's current sources (esbuild, a few seconds).
    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: DRIVER_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
    const base = await testArm64NodeBaseImage();
    contextDir = await mkdtemp(join(tmpdir(), 'runner-manager-arm64-'));
    const context = await assembleRunnerManagerContext({
      // No native run client: compiling it would install gcc under emulation; run-client.int.test.ts covers it.
      outDir: contextDir, configPackageDir: CONFIG_PACKAGE_DIR, driverBundle: DRIVER_BUNDLE, runClientSource: false,
    });
    const buildArgs = { BASE_IMAGE: base, INSTALL_GITLAB_RUNNER: 'false', ...context.buildArgs };
    image = await buildImage(contextDir, 'gitlab-fargate-test/runner-manager:arm64', buildArgs, ARM64_PLATFORM);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (contextDir) await rm(contextDir, { recursive: true, force: true });
  });

  it('runs the driver bundle and the config CLI on arm64 Node', () => {
    expect(imagePlatform(image)).toBe(ARM64_PLATFORM);
    const labels = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    const script = 'node -p "process.arch"; gitlab-fargate-driver --version; gitlab-fargate-config --help >/dev/null && echo config-cli-ok';
    const run = docker(['run', '--rm', ...labels, '--platform', ARM64_PLATFORM, '--entrypoint', 'bash', image, '-c', script], {
      timeoutMs: EMULATED_RUN_TIMEOUT_MS,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('arm64\ngitlab-fargate-driver 0.0.0\nconfig-cli-ok\n');
    expect(run.code).toBe(0);
  }, EMULATED_RUN_TIMEOUT_MS + 30_000);
});
