import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { assembleRunnerManagerContext } from './runner-manager-context.js';
import { resolveRunClientSource } from './run-client-source.js';
import { listFiles } from './vendor-package.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'images-run-client-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A package folder laid out like packages/driver after its bundle step; returns the bundle's path. */
async function packageWithBundle(folder: string, name: string, withSource = true): Promise<string> {
  await mkdir(join(folder, 'dist/bundle'), { recursive: true });
  await writeFile(join(folder, 'package.json'), JSON.stringify({ name }));
  await writeFile(join(folder, 'dist/bundle/gitlab-fargate-driver.mjs'), 'console.log("driver");\n');
  if (withSource) {
    await mkdir(join(folder, 'native'), { recursive: true });
    await writeFile(join(folder, 'native/run-client.c'), `/* ${name}'s client */\nint main(void) { return 0; }\n`);
  }
  return join(folder, 'dist/bundle/gitlab-fargate-driver.mjs');
}

describe('resolveRunClientSource', () => {
  it("finds the driver package's native/run-client.c from its bundle", async () => {
    const bundle = await packageWithBundle(join(dir, 'driver'), '@gitlab-fargate/driver');
    expect(await resolveRunClientSource(undefined, bundle)).toBe(join(dir, 'driver/native/run-client.c'));
  });

  it('finds none when the nearest package is not the driver, the driver has no source, or there is no bundle', async () => {
    const other = await packageWithBundle(join(dir, 'other'), '@example/not-the-driver');
    expect(await resolveRunClientSource(undefined, other)).toBeUndefined();
    const bare = await packageWithBundle(join(dir, 'bare'), '@gitlab-fargate/driver', false);
    expect(await resolveRunClientSource(undefined, bare)).toBeUndefined();
    expect(await resolveRunClientSource(undefined, undefined)).toBeUndefined();
  });

  it('lets a given file override and false turn it off', async () => {
    const bundle = await packageWithBundle(join(dir, 'driver'), '@gitlab-fargate/driver');
    await writeFile(join(dir, 'mine.c'), 'int main(void) { return 1; }\n');
    expect(await resolveRunClientSource(join(dir, 'mine.c'), bundle)).toBe(join(dir, 'mine.c'));
    expect(await resolveRunClientSource(false, bundle)).toBeUndefined();
  });

  it('refuses a given source without a driver bundle, or one that is not a file', async () => {
    await writeFile(join(dir, 'mine.c'), '');
    await expect(resolveRunClientSource(join(dir, 'mine.c'), undefined)).rejects.toThrow('--run-client-source needs --driver-bundle');
    const bundle = await packageWithBundle(join(dir, 'driver'), '@gitlab-fargate/driver');
    await expect(resolveRunClientSource(join(dir, 'missing.c'), bundle)).rejects.toThrow(
      `native run client source (--run-client-source): ${join(dir, 'missing.c')} is not a file`,
    );
  });
});

describe('a runner-manager context from the driver package', () => {
  it("holds the driver package's run client source by default, and none with false", async () => {
    const bundle = await packageWithBundle(join(dir, 'driver'), '@gitlab-fargate/driver');
    await writeFile(join(dir, 'config.mjs'), '');
    const options = { outDir: join(dir, 'ctx'), configBundle: join(dir, 'config.mjs'), driverBundle: bundle, spec: { runnerManager: { configCli: 'cli.mjs' } } };
    const context = await assembleRunnerManagerContext(options);
    expect(context.runClientSource).toBe(join(dir, 'driver/native/run-client.c'));
    expect(await readFile(join(dir, 'ctx/dist/native/run-client.c'), 'utf8')).toContain("@gitlab-fargate/driver's client");
    const without = await assembleRunnerManagerContext({ ...options, runClientSource: false });
    expect(without.runClientSource).toBeUndefined();
    expect((await listFiles(join(dir, 'ctx/dist'))).filter((file) => file.startsWith('native/'))).toEqual([]);
  });

  it('is what `gitlab-fargate-images context` does, and it says so; --no-run-client turns it off', async () => {
    const bundle = await packageWithBundle(join(dir, 'driver'), '@gitlab-fargate/driver');
    await writeFile(join(dir, 'config.mjs'), '');
    const args = ['context', '--out', join(dir, 'ctx'), '--config-bundle', join(dir, 'config.mjs'), '--driver-bundle', bundle];
    await writeFile(join(dir, 'spec.json'), JSON.stringify({ runnerManager: { configCli: 'cli.mjs' } }));
    const spec = ['--spec', join(dir, 'spec.json')];
    const found = runCli([...args, ...spec]);
    expect(found.stderr).toBe('');
    expect(found.stdout).toContain(`native run client: ${join(dir, 'driver/native/run-client.c')}\n`);
    expect(await listFiles(join(dir, 'ctx/dist'))).toContain('native/run-client.c');
    const off = runCli([...args, ...spec, '--no-run-client']);
    expect(off.stdout).toContain('native run client: none (run_exec is the driver)\n');
    expect(await listFiles(join(dir, 'ctx/dist'))).not.toContain('native/run-client.c');
    const both = runCli([...args, ...spec, '--no-run-client', '--run-client-source', join(dir, 'config.mjs')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --run-client-source FILE or --no-run-client, not both');
  });
});
