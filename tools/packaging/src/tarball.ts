import { join } from 'node:path';
import { cleanEnvironment, runProcess } from './process.js';

/** What `npm pack --json` reports about one tarball. */
export interface PackedPackage {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the `.tgz`. */
  readonly tarball: string;
  /** Paths inside the package, e.g. `dist/cli.js`, `package.json`. */
  readonly files: string[];
}

/**
 * Packs a workspace package with `npm pack` into `destination`, exactly as `npm publish` would upload it (same
 * `files` and `.npmignore`).
 */
export async function packPackage(packageDir: string, destination: string): Promise<PackedPackage> {
  const result = await runProcess('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: packageDir,
    env: cleanEnvironment(),
  });
  if (result.exitCode !== 0) {
    throw new Error(`npm pack in ${packageDir} failed (exit ${result.exitCode}):\n${result.stderr}`);
  }
  // The packages have no pack lifecycle scripts, so stdout is npm's JSON report alone.
  const [report] = JSON.parse(result.stdout) as {
    name: string;
    version: string;
    filename: string;
    files: { path: string }[];
  }[];
  if (report === undefined) throw new Error(`npm pack in ${packageDir} reported no tarball:\n${result.stdout}`);
  return {
    name: report.name,
    version: report.version,
    tarball: join(destination, report.filename),
    files: report.files.map((file) => file.path),
  };
}
