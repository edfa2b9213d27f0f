import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVER_TOML, MISSPELT_DRIVER_TOML } from './fixtures.js';
import { installedPackageProblems, tarballContentProblems } from './manifest.js';
import { Sandbox } from './sandbox.js';
import { type PackedPackage, packPackage } from './tarball.js';
import { workspaceRoot } from './workspace.js';

let sandbox: Sandbox;
let packed: PackedPackage;

beforeAll(async () => {
  sandbox = Sandbox.create('config');
  packed = await packPackage(join(workspaceRoot(), 'packages/config'), sandbox.dir);
  await sandbox.install([packed.tarball]);
});
afterAll(() => sandbox?.remove());

describe('@gitlab-fargate/config from its tarball', () => {
  it('packs the compiled library, CLI, README and LICENSE and nothing for development', () => {
    expect(packed.name).toBe('@gitlab-fargate/config');
    expect(tarballContentProblems(packed.files)).toEqual([]);
    expect(packed.files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli.js']));
  });

  it('installs into an empty folder with valid metadata, entry points and an executable bin', () => {
    expect(installedPackageProblems(join(sandbox.dir, 'node_modules/@gitlab-fargate/config'))).toEqual([]);
  });

  it('validates a driver file with its CLI', async () => {
    const file = sandbox.write('fargate.toml', DRIVER_TOML);
    const result = await sandbox.runBin('gitlab-fargate-config', ['validate', file]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('fargate.toml: valid driver configuration');
  });

  it('names a misspelt key and exits non-zero', async () => {
    const file = sandbox.write('misspelt.toml', MISSPELT_DRIVER_TOML);
    const result = await sandbox.runBin('gitlab-fargate-config', ['validate', file]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('Clustre');
  });

  it('is importable as an ES module by its package name', async () => {
    const result = await sandbox.runNode([
      '--input-type=module',
      '-e',
      "import { parseDriverConfig, renderDriverConfig } from '@gitlab-fargate/config';" +
        'console.log(typeof parseDriverConfig, typeof renderDriverConfig);',
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('function function');
  });
});
