import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedPackageProblems, tarballContentProblems } from './manifest.js';
import { Sandbox } from './sandbox.js';
import { type PackedPackage, packPackage } from './tarball.js';
import { workspaceRoot } from './workspace.js';

let sandbox: Sandbox;
let packed: PackedPackage;
const GENERATED = [
  'ci-coordinator/Dockerfile',
  'ci-coordinator/docker-entrypoint.sh',
  'ci-coordinator/aws-cli-public-key.asc',
  'runner-manager/Dockerfile',
  'runner-manager/entrypoint',
  'job-agent/Dockerfile',
  'job-agent/localoptions.h',
  'job-agent/gf-entry',
  'job-agent/gf-session',
  'ci-tools/Dockerfile',
  'ci-tools/docker-entrypoint.sh',
  'ci-tools/aws-cli-public-key.asc',
];

/** Every file under `dir`, as paths relative to it with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

beforeAll(async () => {
  sandbox = Sandbox.create('images');
  packed = await packPackage(join(workspaceRoot(), 'packages/images'), sandbox.dir);
  await sandbox.install([packed.tarball]);
});
afterAll(() => sandbox?.remove());

describe('@gitlab-fargate/images from its tarball', () => {
  it('packs the compiled generator, README and LICENSE and nothing for development', () => {
    expect(packed.name).toBe('@gitlab-fargate/images');
    expect(tarballContentProblems(packed.files)).toEqual([]);
    expect(packed.files).toEqual(expect.arrayContaining(['dist/cli.js', 'dist/index.js', 'dist/index.d.ts']));
  });

  it('installs into an empty folder with valid metadata and an executable bin', () => {
    expect(installedPackageProblems(join(sandbox.dir, 'node_modules/@gitlab-fargate/images'))).toEqual([]);
  });

  it('generates every image, the same files the repository commits', async () => {
    const result = await sandbox.runBin('gitlab-fargate-images', ['generate', '--out', 'images']);
    expect(result.exitCode, result.stderr).toBe(0);
    const root = workspaceRoot();
    expect(filesUnder(join(sandbox.dir, 'images')).sort()).toEqual([...GENERATED].sort());
    for (const file of GENERATED) {
      const written = join(sandbox.dir, 'images', file);
      expect(existsSync(written), file).toBe(true);
      expect(readFileSync(written, 'utf8'), file).toBe(readFileSync(join(root, 'images', file), 'utf8'));
    }
    const check = await sandbox.runBin('gitlab-fargate-images', ['generate', '--out', 'images', '--check']);
    expect(check.exitCode, check.stderr).toBe(0);
  });
});
