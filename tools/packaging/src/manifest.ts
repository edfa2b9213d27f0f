import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/** The package.json fields a published package is checked for. */
export interface PublishedManifest {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly type?: string;
  readonly main?: string;
  readonly types?: string;
  readonly private?: boolean;
  readonly repository?: { type?: string; url?: string; directory?: string } | string;
  readonly engines?: { node?: string };
  readonly bin?: Record<string, string>;
  readonly exports?: Record<string, { types?: string; default?: string } | string>;
  readonly dependencies?: Record<string, string>;
}

/** Paths that must never be in a tarball: tests, their results and fixtures, build state, dev-only config, bundles. */
const FORBIDDEN: [RegExp, string][] = [
  [/\.test\.(js|ts|d\.ts|mjs|cjs)(\.map)?$/, 'a test file'],
  [/(^|\/)test-support\./, 'a test helper'],
  [/(^|\/)test-results\//, 'test results'],
  [/(^|\/)(test|tests|__tests__|test-fixtures)\//, 'a test folder'],
  [/tsbuildinfo$/, 'TypeScript build state'],
  [/(^|\/)(vitest\.config\.[mc]?ts|tsconfig\.dev\.json|\.projenrc\.ts)$/, 'development configuration'],
  [/^dist\/(gitlab-fargate-driver\.mjs|bundle\/)/, "the driver's container bundle"],
  [/(^|\/)cdk\.out\//, 'a CDK cloud assembly'],
];

/**
 * What is wrong with a packed package's file list: every problem as a sentence naming the file and the fix. The
 * README and LICENSE must be in, nothing from {@link FORBIDDEN}.
 */
export function tarballContentProblems(files: string[]): string[] {
  const problems: string[] = [];
  for (const required of ['package.json', 'README.md', 'LICENSE']) {
    if (!files.includes(required)) problems.push(`${required} is missing: add it to "files" (or stop ignoring it).`);
  }
  for (const file of files) {
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(file)) problems.push(`${file} is ${what}: exclude it in "files" or .npmignore.`);
    }
  }
  return problems;
}

/**
 * What is wrong with an installed package (`node_modules/<name>`): metadata a registry page and `npm install` rely
 * on, and every file `main`, `types`, `exports` and `bin` point to must exist; bin files must be executable and
 * start with a shebang.
 */
export function installedPackageProblems(installedDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(installedDir, 'package.json'), 'utf8')) as PublishedManifest;
  const problems: string[] = [];
  const where = `${manifest.name}'s package.json`;
  if (manifest.private) problems.push(`${where} says "private": true: npm would refuse to publish it.`);
  if (manifest.license !== 'Apache-2.0') problems.push(`${where} has license ${manifest.license}, not Apache-2.0.`);
  const repository = typeof manifest.repository === 'string' ? { url: manifest.repository } : manifest.repository;
  if (!repository?.url) problems.push(`${where} has no repository URL.`);
  if (!repository?.directory) problems.push(`${where} has no repository.directory (the monorepo folder).`);
  // The floor is Node 20.19 (`^20.19.0 || ^22… || ^24…`, the lines CI tests: projenrc/versions.ts).
  if (!/^(>=? ?|\^)20\.19/.test(manifest.engines?.node ?? '')) {
    problems.push(`${where} has engines.node "${manifest.engines?.node}", expected a range from 20.19.0 such as "^20.19.0 || ^22.23.5".`);
  }
  const pointed: [string, string | undefined][] = [
    ['main', manifest.main],
    ['types', manifest.types],
    ...Object.entries(manifest.exports ?? {}).flatMap(([key, value]): [string, string | undefined][] =>
      typeof value === 'string'
        ? [[`exports["${key}"]`, value]]
        : [
            [`exports["${key}"].types`, value.types],
            [`exports["${key}"].default`, value.default],
          ],
    ),
  ];
  for (const [field, path] of pointed) {
    if (path === undefined) problems.push(`${where} has no ${field}.`);
    else if (!existsSync(join(installedDir, path))) problems.push(`${where} ${field} points to ${path}, not in the package.`);
  }
  for (const [command, path] of Object.entries(manifest.bin ?? {})) {
    const file = join(installedDir, path);
    if (!existsSync(file)) {
      problems.push(`${where} bin ${command} points to ${path}, not in the package.`);
      continue;
    }
    if (!readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')) {
      problems.push(`${path} (bin ${command}) does not start with "#!/usr/bin/env node".`);
    }
    const link = join(installedDir, '..', manifest.name.includes('/') ? '..' : '', '.bin', command);
    try {
      accessSync(realpathSync(link), constants.X_OK);
    } catch {
      problems.push(`bin ${command} is not linked as an executable in node_modules/.bin after install.`);
    }
  }
  return problems;
}
