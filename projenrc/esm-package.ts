import { TextFile, javascript, typescript } from 'projen';
import { extendTsconfigBase } from './tsconfig-base';
import { UNIT_TEST_TASK, VITEST_ALL, VITEST_UNIT } from './unit-tests';
import { nodeEngines, versions } from './versions';

/** What differs between the workspace's ESM TypeScript packages. */
export interface EsmPackageOptions {
  /** Workspace folder, e.g. `packages/config` or `tools/ecs-emulator`. */
  readonly outdir: string;
  /** Package name, e.g. `@gitlab-fargate/config`. */
  readonly name: string;
  readonly description: string;
  readonly deps?: string[];
  readonly devDeps?: string[];
  /**
   * Command name → file under `dist/`. The package's `bin` points at a generated `bin/<command>.js` that loads it
   * (see {@link binShim}).
   */
  readonly bin?: Record<string, string>;
  /** Tools are not published. */
  readonly private?: boolean;
  /** The package's tests start containers: its test task first makes sure a Docker engine answers. */
  readonly testsNeedDocker?: boolean;
  /**
   * Files outside the package that its tests read (Nx inputs such as `{workspaceRoot}/.gitlab-ci.yml`), so that a
   * change there reruns them instead of replaying a cached result.
   */
  readonly testInputs?: string[];
  /** Commands the test task runs before vitest, in the package folder (e.g. a script that installs a system tool). */
  readonly testSetup?: string[];
  /** Workspace packages Nx builds before this one's tasks without it depending on them (Nx `implicitDependencies`). */
  readonly buildFirst?: string[];
  /** A single-file build of the package made by a script of its own (e.g. esbuild), as the `bundle` task. */
  readonly bundle?: EsmBundleOptions;
  /**
   * What the npm tarball carries besides `dist/`, README and LICENSE, as npm `files` entries after the `dist/` ones:
   * package-relative files or folders (e.g. `native`, sources a user builds on the target) and `!` patterns to leave out.
   * @default none
   */
  readonly packFiles?: string[];
}

/** The `bundle` task of an {@link EsmPackageOptions}. */
export interface EsmBundleOptions {
  /** Command run in the package folder, e.g. `node scripts/bundle.mjs`. */
  readonly exec: string;
  /** What it writes, relative to the package folder: Nx caches them and they stay out of the npm tarball. */
  readonly outputs: string[];
}

/**
 * An ESM (NodeNext) TypeScript workspace package: `src/` compiled to `dist/` with tests beside the code
 * (`*.test.ts`, `*.int.test.ts`), vitest, and only the root installing dependencies (npm workspaces).
 */
export function esmPackage(parent: javascript.NodeProject, options: EsmPackageOptions): typescript.TypeScriptProject {
  const project = new typescript.TypeScriptProject({
    parent,
    outdir: options.outdir,
    name: options.name,
    description: options.description,
    defaultReleaseBranch: 'main',
    packageManager: javascript.NodePackageManager.NPM,
    projenrcTs: false,
    jest: false,
    eslint: false,
    prettier: false,
    sampleCode: false,
    licensed: true,
    license: 'Apache-2.0',
    authorName: 'gitlab-fargate contributors',
    repository: 'https://gitlab.com/gitlab-fargate/gitlab-fargate.git',
    repositoryDirectory: options.outdir,
    typescriptVersion: versions.typescript,
    minNodeVersion: versions.node,
    srcdir: 'src',
    testdir: 'src',
    libdir: 'dist',
    entrypoint: 'dist/index.js',
    deps: options.deps,
    devDeps: [`@types/node@${versions.typesNode}`, `vitest@${versions.vitest}`, ...(options.devDeps ?? [])],
    bin: options.bin && Object.fromEntries(Object.keys(options.bin).map((command) => [command, `bin/${command}.js`])),
    // The bin files are named above; detecting them would also add `<command>.js`.
    autoDetectBin: false,
    depsUpgrade: false,
    buildWorkflow: false,
    release: false,
    github: false,
    tsconfig: {
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
        target: 'ES2022',
        lib: ['es2022'],
        rootDir: 'src',
        outDir: 'dist',
        skipLibCheck: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: false,
        isolatedModules: true,
        verbatimModuleSyntax: true,
        noEmitOnError: true,
      },
      exclude: ['src/**/*.test.ts'],
    },
    tsconfigDevFile: 'tsconfig.dev.json',
    tsconfigDev: {
      include: ['src/**/*.ts', '*.mts'],
      compilerOptions: { rootDir: '.' },
    },
  });
  extendTsconfigBase(project);
  // The Node.js lines CI tests, not an open-ended floor (projenrc/versions.ts).
  project.package.addEngine('node', nodeEngines);
  // npm workspaces: only the root installs; a per-package `npm install` would look for siblings on the registry.
  (project.package as unknown as { installDependencies: () => void }).installDependencies = () => {};
  project.package.addField('type', 'module');
  project.package.addField('exports', { '.': { types: './dist/index.d.ts', default: './dist/index.js' } });
  // A bundle is for container images: the npm package has its dependencies and must not carry a second copy.
  const bundleOutputs = options.bundle?.outputs ?? [];
  for (const [command, target] of Object.entries(options.bin ?? {})) {
    new TextFile(project, `bin/${command}.js`, { lines: binShim(command, target, options.name), executable: true });
  }
  project.package.addField('files', [
    ...(options.bin ? ['bin'] : []),
    'dist',
    '!dist/**/*.test.*',
    '!dist/**/test-support.*',
    '!dist/tsconfig.tsbuildinfo',
    ...bundleOutputs.map((output) => `!${output}`),
    ...(options.packFiles ?? []),
    'README.md',
    'LICENSE',
  ]);
  if (options.private) {
    project.package.addField('private', true);
  }

  // Nx orders the tasks, so its `build` is projen's `compile` alone (projen's locked `build` also tests and packs).
  const nxTargets: Record<string, unknown> = { build: { command: 'projen compile', options: { cwd: '{projectRoot}' } } };
  if (options.bundle) {
    project.addTask('bundle', { description: 'Single-file build for container images', exec: options.bundle.exec });
    // Bundlers read the sources and the built siblings, not the package's own dist.
    nxTargets.bundle = {
      dependsOn: ['^build'],
      inputs: ['production', '^production'],
      outputs: options.bundle.outputs.map((output) => `{projectRoot}/${output}`),
      cache: true,
    };
  }
  if (options.testInputs) {
    nxTargets.test = { inputs: ['default', '^production', ...options.testInputs] };
    nxTargets[UNIT_TEST_TASK] = nxTargets.test;
  }
  project.package.addField('nx', {
    includedScripts: ['test', UNIT_TEST_TASK, 'typecheck', ...(options.bundle ? ['bundle'] : [])],
    ...(options.buildFirst ? { implicitDependencies: options.buildFirst } : {}),
    targets: nxTargets,
  });
  project.packageTask.reset();
  project.postCompileTask.reset();
  project.preCompileTask.reset();
  project.addTask('typecheck', { description: 'Type-check sources and tests', exec: 'tsc --noEmit -p tsconfig.dev.json' });

  project.testTask.reset();
  if (options.testsNeedDocker) {
    project.testTask.exec('bash ../../tools/docker/ensure-engine');
  }
  for (const command of options.testSetup ?? []) project.testTask.exec(command);
  project.testTask.exec(VITEST_ALL, { receiveArgs: true });
  // No engine check: the unit tests need no Docker, so a Fargate CI job can run them.
  const unitTests = project.addTask(UNIT_TEST_TASK, { description: 'Run the unit tests alone (no *.int.test.ts, no Docker)' });
  for (const command of options.testSetup ?? []) unitTests.exec(command);
  unitTests.exec(VITEST_UNIT, { receiveArgs: true });
  project.gitignore.exclude('test-results/');
  project.npmignore?.exclude('test-results/', 'vitest.config.mts', 'tsconfig.dev.json', 'stryker.config.mjs', 'reports/', '.stryker-tmp/');
  return project;
}

/**
 * A committed, executable file for a bin that loads the compiled CLI. npm links a workspace package's bins when it
 * installs and skips a bin whose file does not exist yet; `dist/` is built after `npm ci`, so a bin pointing into
 * it is never linked and `npx <command>` fails at the repository root. This file exists at install time.
 */
function binShim(command: string, target: string, packageName: string): string[] {
  return [
    '#!/usr/bin/env node',
    '// ~~ Generated by projen. To modify, edit .projenrc.ts and run "npx projen".',
    `// The bin is this committed file, not ${target}: npm links a workspace bin at install time only if its file exists.`,
    "import { existsSync } from 'node:fs';",
    "import { fileURLToPath } from 'node:url';",
    '',
    `const cli = new URL('../${target}', import.meta.url);`,
    'if (!existsSync(cli)) {',
    `  process.stderr.write(\`${command}: \${fileURLToPath(cli)} does not exist: build the package first (npx nx run ${packageName}:build)\\n\`);`,
    '  process.exit(1);',
    '}',
    'await import(cli.href);',
  ];
}
