import { cp, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

interface PackageManifest {
  readonly name?: string;
  readonly dependencies?: Record<string, string>;
}

/**
 * Copies a compiled workspace package so that `node` runs it without an install: its `package.json`, its `dist/`
 * (tests and source maps left out) and, under `node_modules/`, every runtime dependency, found the way Node.js
 * resolves them from the package's folder.
 *
 * This stands in for a single-file bundle while no bundler is a dependency here.
 * @returns the names of the dependencies copied.
 */
export async function vendorPackage(packageDir: string, destination: string): Promise<string[]> {
  const manifest = await readManifest(packageDir);
  const compiled = join(packageDir, 'dist');
  if (!(await isDirectory(compiled))) {
    throw new Error(
      `${packageDir} has no dist/ folder: compile ${manifest.name ?? 'the package'} first (npx projen compile in ${packageDir})`,
    );
  }
  await mkdir(destination, { recursive: true });
  await cp(join(packageDir, 'package.json'), join(destination, 'package.json'));
  await cp(compiled, join(destination, 'dist'), {
    recursive: true,
    filter: (source) => !/\.test\.|\.map$|\.d\.ts$|tsbuildinfo$/.test(source),
  });
  const copied: string[] = [];
  await copyDependencies(packageDir, manifest, join(destination, 'node_modules'), copied);
  return copied;
}

async function copyDependencies(
  fromDir: string,
  manifest: PackageManifest,
  modulesDir: string,
  copied: string[],
): Promise<void> {
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (copied.includes(name)) {
      continue;
    }
    const source = await resolvePackageDir(fromDir, name);
    await cp(source, join(modulesDir, name), { recursive: true, dereference: true });
    copied.push(name);
    await copyDependencies(source, await readManifest(source), modulesDir, copied);
  }
}

/** Finds `node_modules/<name>` in `fromDir` or the nearest folder above it, as Node.js does. */
async function resolvePackageDir(fromDir: string, name: string): Promise<string> {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (await isDirectory(candidate)) {
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`dependency ${name} of ${fromDir} is not installed in any node_modules above it: run npm install`);
    }
    dir = parent;
  }
}

async function readManifest(packageDir: string): Promise<PackageManifest> {
  const file = join(packageDir, 'package.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as PackageManifest;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}; is ${packageDir} a package folder?`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Lists the files below `dir`, relative to it (for reports and tests). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}
