import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARM64_PLATFORM, ARM64_TESTS, ensureArm64Engine, LOCAL_ARM64_BASE_IMAGE } from '../../test/arm64.js';
import { docker, LOCAL_BASE_IMAGE } from '../../test/docker.js';
import {
  labelArgs,
  loginWhenReady,
  populateAgentVolume,
  removeAll,
  run,
  startBuildContainer,
  withJobAgentContext,
} from '../../test/job-agent.js';
import { JOB_AGENT_DIR, JOB_AGENT_ENV, JOB_AGENT_STATE_DIR } from '../spec/job-agent-contract.js';
import { DROPBEAR_OPTIONS_FILE } from './job-agent/dropbear-options.js';
import { ed25519KeyPair } from '../../test/ssh.js';

// The job agent for linux/arm64, cross-compiled by BuildKit on this amd64 machine (no emulation while building), then
// run under qemu as an ARM64 Fargate task would run it: init container, then an arm64 build container that logs in.
// The runs are slow under qemu, so only with GITLAB_FARGATE_ARM64_TESTS=1, which .ci/run sets.
const ARM64_AGENT_IMAGE = 'gitlab-fargate-test/job-agent:arm64';
const BUILD_TIMEOUT_MS = 600_000;
/**
 * dropbear makes its host key under qemu before it listens: seconds, not the native fraction of one, and minutes when
 * the emulated code competes with a loaded machine for its two cores.
 */
const LOGIN_DEADLINE_MS = 300_000;

/**
 * TEST ONLY, for the login under qemu: qemu-user (7.2, binfmt flags "PF", as tools/docker/ensure-engine registers it)
 * cannot follow dropbear's per-connection re-exec. dropbear opens its own binary close-on-exec and fexecve()s it; the
 * kernel then hands the emulator /proc/self/fd/N, already closed, and the connection's child dies before the SSH
 * handshake. On arm64 hardware (Graviton) the shipped image re-execs as it does on amd64, where the job-agent tests run
 * it natively. This variant adds one define to the generated localoptions.h, nothing else.
 */
const QEMU_NO_REEXEC_OPTION = '#define DROPBEAR_REEXEC 0 /* TEST ONLY: qemu-user cannot fexecve a close-on-exec fd */\n';
const ARM64_AGENT_QEMU_IMAGE = 'gitlab-fargate-test/job-agent:arm64-qemu';

/**
 * Builds the generated job-agent context with BuildKit (the engine's own, through its API: this dockerd has no
 * buildx), which sets BUILDPLATFORM and TARGETARCH as `docker buildx build --platform` does.
 */
function buildWithBuildKit(platform: string, tag: string, extraDropbearOptions = ''): Promise<string> {
  return withJobAgentContext(async (dir) => {
    if (extraDropbearOptions !== '') await appendFile(join(dir, DROPBEAR_OPTIONS_FILE), extraDropbearOptions);
    // testcontainers only checks that the tag exists afterwards: an image left by an earlier run must not pass for it.
    docker(['rmi', '-f', tag]);
    try {
      await GenericContainer.fromDockerfile(dir)
        .withBuildArgs({ BASE_IMAGE: LOCAL_BASE_IMAGE })
        .withBuildkit()
        .withPlatform(platform)
        .build(tag, { deleteOnExit: false });
    } catch (error) {
      throw new Error(`BuildKit could not build ${tag} for ${platform} (DEBUG=testcontainers:build shows its log): ${(error as Error).message}`);
    }
    return tag;
  });
}

/** Copies the image's /opt/gf out (an image is not a container: `docker create` then `docker cp`). */
async function extractAgentFiles(image: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'job-agent-arm64-files-'));
  const created = docker(['create', ...labelArgs, image, `${JOB_AGENT_DIR}/busybox`]);
  expect(created.code, created.stderr).toBe(0);
  const container = created.stdout.trim();
  try {
    const copied = docker(['cp', `${container}:${JOB_AGENT_DIR}/.`, dir]);
    expect(copied.code, copied.stderr).toBe(0);
  } finally {
    docker(['rm', container]);
  }
  return dir;
}

/** What file(1) says about a binary, without the path. */
function describeBinary(path: string): string {
  const result = spawnSync('file', ['-b', path], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(`file(1) is needed to check the binaries (apt-get install file): ${result.error.message}`);
  }
  return result.stdout.trim();
}

describe.runIf(ARM64_TESTS)('job-agent cross-compiled for linux/arm64', () => {
  const keys = ed25519KeyPair();
  const containers: string[] = [];
  const volumes: string[] = [];
  let filesDir: string;
  let agentVolume: string;
  let initOutput: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    ensureArm64Engine();
    const started = Date.now();
    await buildWithBuildKit(ARM64_PLATFORM, ARM64_AGENT_IMAGE);
    console.log(`job-agent linux/arm64 build (BuildKit, cross-compiled): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    filesDir = await extractAgentFiles(ARM64_AGENT_IMAGE);
    const shipped = populateAgentVolume(ARM64_AGENT_IMAGE);
    volumes.push(shipped.volume);
    initOutput = shipped.output;
    await buildWithBuildKit(ARM64_PLATFORM, ARM64_AGENT_QEMU_IMAGE, QEMU_NO_REEXEC_OPTION);
    agentVolume = populateAgentVolume(ARM64_AGENT_QEMU_IMAGE).volume;
    volumes.push(agentVolume);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    removeAll(containers, volumes);
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  it('is recorded as linux/arm64 and carries static aarch64 binaries', () => {
    const platform = docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', ARM64_AGENT_IMAGE]).stdout.trim();
    expect(platform).toBe(ARM64_PLATFORM);
    for (const binary of ['busybox', 'dropbearmulti']) {
      expect(describeBinary(join(filesDir, binary)), binary).toMatch(/^ELF 64-bit LSB executable, ARM aarch64, .*statically linked/);
    }
  });

  it('fills the task volume as an init container under qemu, and names the architecture it was built for', () => {
    expect(initOutput.code, initOutput.stderr).toBe(0);
    expect(initOutput.stdout).toMatch(/Debian source package dropbear 2022\.83-\S+, built statically with musl for arm64\n/);
    expect(initOutput.stdout).toMatch(/Debian package busybox-static 1:1\.\d+\.\d+-\S+ \(arm64\)\n/);
  });

  it('lets an arm64 build container log in under qemu: the key written, dropbear on 2222, busybox sh running a command', async () => {
    const container = startBuildContainer({
      image: LOCAL_ARM64_BASE_IMAGE,
      agentVolume,
      env: { [JOB_AGENT_ENV.sshPublicKey]: keys.public },
      runArgs: ['--platform', ARM64_PLATFORM],
    });
    containers.push(container);
    const client = await loginWhenReady(container, keys.private, LOGIN_DEADLINE_MS);
    try {
      const authorized = await run(client, `cat ${JOB_AGENT_STATE_DIR}/home/.ssh/authorized_keys`);
      expect(authorized.stdout.trim()).toBe(keys.public.trim());
      const command = await run(client, `${JOB_AGENT_DIR}/sh -c 'echo "$(${JOB_AGENT_DIR}/busybox uname -m) $((6 * 7))"; exit 3'`);
      expect(command.stdout).toBe('aarch64 42\n');
      expect(command.code).toBe(3);
    } finally {
      client.end();
    }
  }, LOGIN_DEADLINE_MS + 30_000);
});

// The legacy builder cannot cross-build (it would record arm64 binaries as the engine's platform): refused at the
// first step, before anything is installed. No qemu involved, so this always runs.
describe('job-agent with the legacy builder', () => {
  it('refuses a TARGETARCH of another architecture, saying to use BuildKit', async () => {
    const foreign = arch() === 'arm64' ? 'amd64' : 'arm64';
    const args = ['build', '--no-cache', '--build-arg', `BASE_IMAGE=${LOCAL_BASE_IMAGE}`, '--build-arg', `TARGETARCH=${foreign}`];
    const result = await withJobAgentContext(async (dir) =>
      spawnSync('docker', [...args, dir], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_BUILDKIT: '0' } }),
    );
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).not.toBe(0);
    expect(output).toContain(`job-agent: error: TARGETARCH=${foreign} without BuildKit`);
    expect(output).toContain(`how to fix: build with BuildKit: docker buildx build --platform linux/${foreign}`);
  }, 150_000);
});
