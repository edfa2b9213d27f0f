import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RUN_CLIENT_SOURCE } from '../render/runner-manager/layout.js';

/** The package whose folder holds the native run client's source, `native/run-client.c` (`RUN_CLIENT_SOURCE`). */
const DRIVER_PACKAGE_NAME = '@gitlab-fargate/driver';

/**
 * The native run client source a runner-manager context gets: the file given; none when turned off (`false`) or
 * without a driver bundle; otherwise the driver package's own `native/run-client.c`, found from the bundle up to the
 * nearest `package.json` when that is `@gitlab-fargate/driver`'s (the workspace's `packages/driver`, or an installed
 * copy), so that an image built from the driver's bundle runs the client that was built and tested with it.
 * @throws Error when a source is given without a driver bundle (the client falls back to the driver) or is not a file.
 */
export async function resolveRunClientSource(
  given: string | false | undefined,
  driverBundle: string | undefined,
): Promise<string | undefined> {
  if (given === false) return undefined;
  if (given !== undefined) {
    if (driverBundle === undefined) throw new Error('--run-client-source needs --driver-bundle: the run client falls back to the driver');
    if (!(await isFile(given))) throw new Error(`native run client source (--run-client-source): ${given} is not a file`);
    return given;
  }
  if (driverBundle === undefined) return undefined;
  const driverPackage = await owningDriverPackage(dirname(driverBundle));
  if (driverPackage === undefined) return undefined;
  const source = join(driverPackage, RUN_CLIENT_SOURCE);
  return (await isFile(source)) ? source : undefined;
}

/** The folder of the nearest `package.json` at or above `folder` when that package is the driver, else undefined. */
async function owningDriverPackage(folder: string): Promise<string | undefined> {
  for (let current = folder; ; current = dirname(current)) {
    const manifest = join(current, 'package.json');
    if (await isFile(manifest)) return (await packageName(manifest)) === DRIVER_PACKAGE_NAME ? current : undefined;
    if (dirname(current) === current) return undefined;
  }
}

async function packageName(manifest: string): Promise<string | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(manifest, 'utf8'));
    const name = typeof parsed === 'object' && parsed !== null ? (parsed as { name?: unknown }).name : undefined;
    return typeof name === 'string' ? name : undefined;
  } catch {
    // An unreadable manifest is no driver's: the context simply gets no run client.
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
