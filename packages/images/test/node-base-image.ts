import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, imageExists, LOCAL_BASE_IMAGE } from './docker.js';

/**
 * TEST FIXTURE: a stand-in for the runner manager's production base (node:22-bookworm-slim), which these machines
 * cannot pull. It is the local Debian image plus the host's own `node` binary (process.execPath), tagged and
 * labelled as a test fixture so nobody mistakes it for a release base. Built once per Node.js version.
 */
export async function testNodeBaseImage(): Promise<string> {
  const tag = `gitlab-fargate-test/node-base-fixture:${process.version}`;
  if (imageExists(tag)) {
    return tag;
  }
  const dir = await mkdtemp(join(tmpdir(), 'node-base-fixture-'));
  try {
    await copyFile(process.execPath, join(dir, 'node'));
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        '# TEST FIXTURE ONLY: local Debian plus the test host node binary, standing in for node:*-bookworm-slim.',
        `FROM ${LOCAL_BASE_IMAGE}`,
        'LABEL org.gitlab-fargate.test-fixture="true" \\',
        '      org.opencontainers.image.title="TEST FIXTURE: local/debian:bookworm with the test host node binary"',
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
