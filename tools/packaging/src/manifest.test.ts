import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installedPackageProblems, tarballContentProblems } from './manifest.js';

// The checks the tarball tests rely on must catch what they are for: these feed them broken packages.
const scratch = mkdtempSync(join(tmpdir(), 'gitlab-fargate-manifest-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('tarballContentProblems', () => {
  it('accepts compiled code with README and LICENSE', () => {
    expect(tarballContentProblems(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/cli.js'])).toEqual([]);
  });

  it('names every file that is for development, and the missing README and LICENSE', () => {
    const problems = tarballContentProblems([
      'package.json',
      'dist/index.js',
      'dist/run.test.js',
      'dist/stages/prepare.int.test.d.ts',
      'dist/test-support.js',
      'test-results/vitest.json',
      'tsconfig.tsbuildinfo',
      'vitest.config.mts',
      'dist/gitlab-fargate-driver.mjs',
      'test/fixtures/sshd/Dockerfile',
    ]);
    expect(problems).toEqual([
      'README.md is missing: add it to "files" (or stop ignoring it).',
      'LICENSE is missing: add it to "files" (or stop ignoring it).',
      'dist/run.test.js is a test file: exclude it in "files" or .npmignore.',
      'dist/stages/prepare.int.test.d.ts is a test file: exclude it in "files" or .npmignore.',
      'dist/test-support.js is a test helper: exclude it in "files" or .npmignore.',
      'test-results/vitest.json is test results: exclude it in "files" or .npmignore.',
      'tsconfig.tsbuildinfo is TypeScript build state: exclude it in "files" or .npmignore.',
      'vitest.config.mts is development configuration: exclude it in "files" or .npmignore.',
      "dist/gitlab-fargate-driver.mjs is the driver's container bundle: exclude it in \"files\" or .npmignore.",
      'test/fixtures/sshd/Dockerfile is a test folder: exclude it in "files" or .npmignore.',
    ]);
  });
});

describe('installedPackageProblems', () => {
  /** Lays out node_modules/@scope/name as npm would, with a bin link. */
  function install(manifest: object, files: Record<string, string>, executable: boolean): string {
    const modules = join(mkdtempSync(join(scratch, 'install-')), 'node_modules');
    const dir = join(modules, '@acme', 'tool');
    mkdirSync(join(dir, 'dist'), { recursive: true });
    mkdirSync(join(modules, '.bin'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
    chmodSync(join(dir, 'dist/cli.js'), executable ? 0o755 : 0o644);
    symlinkSync('../@acme/tool/dist/cli.js', join(modules, '.bin', 'acme-tool'));
    return dir;
  }
  const good = {
    name: '@acme/tool',
    version: '1.0.0',
    license: 'Apache-2.0',
    repository: { type: 'git', url: 'https://example.com/acme.git', directory: 'packages/tool' },
    engines: { node: '^20.19.0 || ^22.23.5 || ^24.22.3' },
    main: 'dist/index.js',
    types: 'dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    bin: { 'acme-tool': 'dist/cli.js' },
  };
  const files = { 'dist/index.js': '', 'dist/index.d.ts': '', 'dist/cli.js': '#!/usr/bin/env node\n' };

  it('accepts a complete package', () => {
    expect(installedPackageProblems(install(good, files, true))).toEqual([]);
  });

  it('names missing metadata, dangling entry points, and a bin without shebang or execute bit', () => {
    const { repository: _repository, ...withoutRepository } = good;
    const broken = { ...withoutRepository, license: 'MIT', engines: {}, private: true, types: 'dist/missing.d.ts' };
    const problems = installedPackageProblems(
      install(broken, { ...files, 'dist/cli.js': 'console.log(1)\n' }, false),
    );
    expect(problems).toEqual([
      `@acme/tool's package.json says "private": true: npm would refuse to publish it.`,
      "@acme/tool's package.json has license MIT, not Apache-2.0.",
      "@acme/tool's package.json has no repository URL.",
      "@acme/tool's package.json has no repository.directory (the monorepo folder).",
      `@acme/tool's package.json has engines.node "undefined", expected a range from 20.19.0 such as "^20.19.0 || ^22.23.5".`,
      "@acme/tool's package.json types points to dist/missing.d.ts, not in the package.",
      'dist/cli.js (bin acme-tool) does not start with "#!/usr/bin/env node".',
      'bin acme-tool is not linked as an executable in node_modules/.bin after install.',
    ]);
  });
});
