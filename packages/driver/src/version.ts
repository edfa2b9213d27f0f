import { readFileSync } from 'node:fs';

/** Set by the esbuild bundle (`define`), where no package.json travels with the file. */
declare const __DRIVER_VERSION__: string | undefined;

/** The driver's name as gitlab-runner prints it ("Using Custom executor with driver <name> <version>"). */
export const DRIVER_NAME = 'gitlab-fargate-driver';

/** The package version, from the bundle's build-time constant or the package.json beside `dist/`. */
export function driverVersion(): string {
  if (typeof __DRIVER_VERSION__ === 'string') return __DRIVER_VERSION__;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
