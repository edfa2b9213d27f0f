import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { configCliStatus } from '../../test/config-cli.js';
import { CONFIG_PACKAGE_DIR } from '../../test/paths.js';
import { assembleRunnerManagerContext } from './runner-manager-context.js';
import { listFiles, vendorPackage } from './vendor-package.js';

const configCli = configCliStatus();

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'images-context-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vendorPackage', () => {
  it.skipIf(!configCli.ready)('copies the config package so that its CLI runs with no install, outside the workspace', async () => {
    const copied = await vendorPackage(CONFIG_PACKAGE_DIR, join(dir, 'config'));
    expect(copied.sort()).toEqual(['smol-toml']);
    const files = await listFiles(join(dir, 'config'));
    expect(files).toContain('dist/cli.js');
    expect(files.some((file) => /\.test\.|\.d\.ts$|\.map$/.test(file) && file.startsWith('dist/'))).toBe(false);
    const run = spawnSync(process.execPath, [join(dir, 'config/dist/cli.js'), 'render', 'driver', '--help'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Usage: gitlab-fargate-config render driver');
  });

  it('explains a package that was not compiled', async () => {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: '@example/uncompiled' }));
    await expect(vendorPackage(dir, join(dir, 'out'))).rejects.toThrow(
      `${dir} has no dist/ folder: compile @example/uncompiled first (npx projen compile in ${dir})`,
    );
  });

  it('explains a dependency that is not installed', async () => {
    await mkdir(join(dir, 'pkg/dist'), { recursive: true });
    await writeFile(join(dir, 'pkg/package.json'), JSON.stringify({ name: 'pkg', dependencies: { 'not-installed-anywhere': '1.0.0' } }));
    await expect(vendorPackage(join(dir, 'pkg'), join(dir, 'out'))).rejects.toThrow(
      'dependency not-installed-anywhere of',
    );
  });
});

/** A context's files but the manager helper's (checked on its own below). */
const withoutManagerHelper = (files: string[]): string[] => files.filter((file) => !file.includes('gitlab-fargate-manager/'));

describe('assembleRunnerManagerContext', () => {
  it('writes the Dockerfile, the entrypoint and dist/ with a config bundle and the driver bundle', async () => {
    await writeFile(join(dir, 'config.mjs'), 'console.log("config cli");\n');
    await writeFile(join(dir, 'driver.mjs'), 'console.log("driver");\n');
    const context = await assembleRunnerManagerContext({
      outDir: join(dir, 'ctx'),
      configBundle: join(dir, 'config.mjs'),
      driverBundle: join(dir, 'driver.mjs'),
      spec: { runnerManager: { configCli: 'gitlab-fargate-config.mjs' } },
    });
    expect(context.buildArgs).toEqual({});
    expect(withoutManagerHelper(await listFiles(join(dir, 'ctx')))).toEqual([
      'Dockerfile',
      'dist/gitlab-fargate-config.mjs',
      'dist/gitlab-fargate-driver.mjs',
      'entrypoint',
    ]);
    expect(await readFile(join(dir, 'ctx/Dockerfile'), 'utf8')).toContain('ARG CONFIG_CLI=gitlab-fargate-config.mjs');
    expect((await stat(join(dir, 'ctx/entrypoint'))).mode & 0o111).not.toBe(0);
  });

  it("copies a split driver bundle's chunks/ folder along with its entry", async () => {
    await mkdir(join(dir, 'split/chunks'), { recursive: true });
    await writeFile(join(dir, 'split/gitlab-fargate-driver.mjs'), 'import("./chunks/run-ABC.mjs");\n');
    await writeFile(join(dir, 'split/chunks/run-ABC.mjs'), 'export {};\n');
    await writeFile(join(dir, 'config.mjs'), '');
    await assembleRunnerManagerContext({
      outDir: join(dir, 'ctx'),
      configBundle: join(dir, 'config.mjs'),
      driverBundle: join(dir, 'split/gitlab-fargate-driver.mjs'),
      spec: { runnerManager: { configCli: 'cli.mjs' } },
    });
    expect(withoutManagerHelper(await listFiles(join(dir, 'ctx/dist')))).toEqual(['chunks/run-ABC.mjs', 'cli.mjs', 'gitlab-fargate-driver.mjs']);
  });

  it('replaces a stale dist/ and asks for DRIVER_BUNDLE= without a driver', async () => {
    await mkdir(join(dir, 'ctx/dist'), { recursive: true });
    await writeFile(join(dir, 'ctx/dist/old-driver.mjs'), '');
    await writeFile(join(dir, 'config.mjs'), '');
    const context = await assembleRunnerManagerContext({
      outDir: join(dir, 'ctx'),
      configBundle: join(dir, 'config.mjs'),
      spec: { runnerManager: { configCli: 'cli.mjs' } },
    });
    expect(context.buildArgs).toEqual({ DRIVER_BUNDLE: '' });
    expect(withoutManagerHelper(await listFiles(join(dir, 'ctx/dist')))).toEqual(['cli.mjs']);
  });

  it('copies the compiled manager helper, as ES modules without tests, maps or declarations, and it runs there', async () => {
    await writeFile(join(dir, 'config.mjs'), '');
    await assembleRunnerManagerContext({ outDir: join(dir, 'ctx'), configBundle: join(dir, 'config.mjs'), spec: { runnerManager: { configCli: 'cli.mjs' } } });
    const helper = (await listFiles(join(dir, 'ctx/dist'))).filter((file) => file.startsWith('gitlab-fargate-manager/'));
    expect(helper).toEqual(expect.arrayContaining(['gitlab-fargate-manager/cli.js', 'gitlab-fargate-manager/aws/ssm.js', 'gitlab-fargate-manager/package.json']));
    expect(helper.filter((file) => /\.test\.|\.map$|\.d\.ts$/.test(file))).toEqual([]);
    const help = spawnSync(process.execPath, [join(dir, 'ctx/dist/gitlab-fargate-manager/cli.js'), '--help'], { cwd: dir, encoding: 'utf8' });
    expect(help.stderr).toBe('');
    expect(help.stdout).toContain('Usage: gitlab-fargate-manager <command>');
  });

  it('refuses ambiguous or mismatched inputs before writing anything', async () => {
    await writeFile(join(dir, 'driver.cjs'), '');
    await expect(assembleRunnerManagerContext({ outDir: join(dir, 'ctx') })).rejects.toThrow(
      'give exactly one of the config package folder (--config-package) or a config CLI bundle (--config-bundle)',
    );
    await expect(
      assembleRunnerManagerContext({ outDir: join(dir, 'ctx'), configBundle: join(dir, 'driver.cjs'), driverBundle: join(dir, 'driver.cjs') }),
    ).rejects.toThrow('differ in extension, which decides how node loads it: set runnerManager.driverBundle to a name ending in .cjs');
    await expect(
      assembleRunnerManagerContext({ outDir: join(dir, 'ctx'), configBundle: join(dir, 'missing.mjs') }),
    ).rejects.toThrow(`config CLI bundle (--config-bundle): ${join(dir, 'missing.mjs')} is not a file`);
    expect(spawnSync('ls', [join(dir, 'ctx')]).status).not.toBe(0);
  });

  it.skipIf(!configCli.ready)('is what `gitlab-fargate-images context` runs', () => {
    const result = runCli(['context', '--out', join(dir, 'ctx'), '--config-package', CONFIG_PACKAGE_DIR]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `filled ${join(dir, 'ctx')} (config CLI dependencies: smol-toml)\nbuild with --build-arg DRIVER_BUNDLE=  (no driver given)\n`,
    );
  });
});
