import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNNER_MANAGER_DEFAULTS } from '../src/spec/runner-manager.js';
import { buildImage, imageExists, LOCAL_BASE_IMAGE } from './docker.js';
import { REPO_ROOT } from './paths.js';

/**
 * The Node.js version the fixture carries: the line of the production base (22 in `node:22-bookworm-slim`), at the
 * version CI tests that line with (the root package.json `engines`, e.g. `^20.19.0 || ^22.23.5 || ^24.22.3`).
 */
export function productionNodeVersion(): string {
  const major = /^(?:.*\/)?node:(\d+)/.exec(RUNNER_MANAGER_DEFAULTS.baseImage)?.[1];
  const { engines } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const ranges = engines.node.split('||').map((range) => range.trim().replace(/^\^/, ''));
  const version = ranges.find((range) => range.startsWith(`${major}.`));
  if (major === undefined || version === undefined) {
    throw new Error(`No Node.js ${major ?? '?'} line in engines "${engines.node}" for base ${RUNNER_MANAGER_DEFAULTS.baseImage}`);
  }
  return version;
}

/**
 * TEST FIXTURE: a stand-in for the runner manager's production base (node:22-bookworm-slim), which these machines
 * cannot pull. It is the local Debian image plus the official `node` binary of the same line, from the npm
 * registry's node-linux-<arch> package (.ci/node-runtime, cached after the first run), tagged and labelled as a
 * test fixture so nobody mistakes it for a release base. Built once per Node.js version.
 */
export async function testNodeBaseImage(): Promise<string> {
  const version = productionNodeVersion();
  const tag = `gitlab-fargate-test/node-base-fixture:v${version}`;
  if (imageExists(tag)) {
    return tag;
  }
  const bin = execFileSync('bash', [join(REPO_ROOT, '.ci/node-runtime'), version], { encoding: 'utf8' }).trim();
  const dir = await mkdtemp(join(tmpdir(), 'node-base-fixture-'));
  try {
    await copyFile(join(bin, 'node'), join(dir, 'node'));
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        '# TEST FIXTURE ONLY: local Debian plus the official node binary of the production base line.',
        `FROM ${LOCAL_BASE_IMAGE}`,
        'LABEL org.gitlab-fargate.test-fixture="true" \\',
        `      org.opencontainers.image.title="TEST FIXTURE: local/debian:bookworm with node ${version}"`,
        'COPY node /usr/local/bin/node',
        'RUN node --version',
        '',
      ].join('\n'),
    );
    return await buildImage(dir, tag, {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
