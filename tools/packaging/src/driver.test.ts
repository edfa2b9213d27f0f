import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVER_TOML } from './fixtures.js';
import { installedPackageProblems, tarballContentProblems } from './manifest.js';
import { Sandbox } from './sandbox.js';
import { type PackedPackage, packPackage } from './tarball.js';
import { workspaceRoot } from './workspace.js';

let sandbox: Sandbox;
let driver: PackedPackage;

beforeAll(async () => {
  sandbox = Sandbox.create('driver');
  const root = workspaceRoot();
  driver = await packPackage(join(root, 'packages/driver'), sandbox.dir);
  const config = await packPackage(join(root, 'packages/config'), sandbox.dir);
  // @gitlab-fargate/config is not on the registry: it comes from its tarball, in the same install.
  await sandbox.install([driver.tarball, config.tarball]);
});
afterAll(() => sandbox?.remove());

describe('@gitlab-fargate/driver from its tarball', () => {
  it('packs the compiled driver, README and LICENSE, and neither tests nor the container bundle', () => {
    expect(driver.name).toBe('@gitlab-fargate/driver');
    expect(tarballContentProblems(driver.files)).toEqual([]);
    expect(driver.files).toEqual(expect.arrayContaining(['dist/cli.js', 'dist/index.js', 'dist/index.d.ts']));
  });

  it("ships the native run client's source and build script, not a binary built on this machine", () => {
    // gitlab-fargate-images context finds native/run-client.c beside the driver and compiles it into the image.
    expect(driver.files).toEqual(expect.arrayContaining(['native/run-client.c', 'native/build.sh']));
    expect(driver.files.filter((file) => file.startsWith('dist/native/'))).toEqual([]);
  });

  it('installs with its sibling into an empty folder with valid metadata and an executable bin', () => {
    expect(installedPackageProblems(join(sandbox.dir, 'node_modules/@gitlab-fargate/driver'))).toEqual([]);
  });

  it('prints its version', async () => {
    const result = await sandbox.runBin('gitlab-fargate-driver', ['--version']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(`gitlab-fargate-driver ${driver.version}`);
  });

  it('answers the custom executor config stage with one JSON object (the custom executor config contract)', async () => {
    const file = sandbox.write('fargate.toml', DRIVER_TOML);
    const result = await sandbox.runBin('gitlab-fargate-driver', ['--config', file, 'custom', 'config']);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines, 'gitlab-runner reads exactly one JSON object from stdout').toHaveLength(1);
    const answer = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(answer).toMatchObject({
      driver: { name: 'gitlab-fargate-driver', version: driver.version },
      builds_dir_is_shared: false,
    });
    // gitlab-runner then uses config.toml's builds_dir and cache_dir, the one place they are set.
    expect(Object.keys(answer)).not.toContain('builds_dir');
    expect(Object.keys(answer)).not.toContain('cache_dir');
    expect(typeof answer.hostname).toBe('string');
  });
});
