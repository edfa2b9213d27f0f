import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { copyFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateImages, writeGeneratedFiles } from '../src/generate.js';
import { CI_TOOLS_NODE_VERSION } from '../src/spec/ci-tools.js';
import { buildImage, imageExists, LOCAL_BASE_IMAGE } from './docker.js';
import { REPO_ROOT } from './paths.js';

/** The folder of the npm package that runs this test (`npm` on the PATH is a link to its bin/npm-cli.js). */
function hostNpmPackage(): string {
  const npmCli = realpathSync(execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  return dirname(dirname(npmCli));
}

/**
 * TEST FIXTURE: a stand-in for ci-tools' production base (node:<CI_TOOLS_NODE_VERSION>-bookworm-slim), which these
 * machines cannot pull. It is the local Debian image plus the official `node` binary of exactly that version, from
 * the npm registry's node-linux-<arch> package (.ci/node-runtime, cached after the first run), and the test host's
 * npm laid out as the official image lays it out (`/usr/local/lib/node_modules/npm`, `npm` and `npx` linked in
 * `/usr/local/bin`). Tagged and labelled as a test fixture so nobody mistakes it for a release base.
 */
export async function testCiToolsBaseImage(): Promise<string> {
  const tag = `gitlab-fargate-test/ci-tools-base-fixture:v${CI_TOOLS_NODE_VERSION}`;
  if (imageExists(tag)) {
    return tag;
  }
  const bin = execFileSync('bash', [join(REPO_ROOT, '.ci/node-runtime'), CI_TOOLS_NODE_VERSION], { encoding: 'utf8' }).trim();
  const dir = await mkdtemp(join(tmpdir(), 'ci-tools-base-fixture-'));
  try {
    await copyFile(join(bin, 'node'), join(dir, 'node'));
    await cp(hostNpmPackage(), join(dir, 'npm'), { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), fixtureDockerfile());
    return await buildImage(dir, tag, {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fixtureDockerfile(): string {
  return [
    `# TEST FIXTURE ONLY: local Debian plus the official node ${CI_TOOLS_NODE_VERSION} binary and npm.`,
    `FROM ${LOCAL_BASE_IMAGE}`,
    'LABEL org.gitlab-fargate.test-fixture="true" \\',
    `      org.opencontainers.image.title="TEST FIXTURE: local/debian:bookworm with node ${CI_TOOLS_NODE_VERSION} and npm"`,
    'COPY node /usr/local/bin/node',
    'COPY npm /usr/local/lib/node_modules/npm',
    'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
    ' && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
    ' && node --version && npm --version',
    '',
  ].join('\n');
}

/** Builds the generated ci-tools Dockerfile (the default spec) offline on the fixture base, without gitlab-runner. */
export async function buildCiTools(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ci-tools-'));
  try {
    const files = generateImages()
      .filter((file) => file.path.startsWith('ci-tools/'))
      .map((file) => ({ ...file, path: file.path.slice('ci-tools/'.length) }));
    await writeGeneratedFiles(dir, files);
    return await buildImage(dir, tag, { BASE_IMAGE: await testCiToolsBaseImage(), INSTALL_GITLAB_RUNNER: 'false' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
