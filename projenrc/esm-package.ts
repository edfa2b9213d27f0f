import { javascript, typescript } from 'projen';
import { versions } from './versions';

/** What differs between the workspace's ESM TypeScript packages. */
export interface EsmPackageOptions {
  /** Workspace folder, e.g. `packages/config` or `tools/ecs-emulator`. */
  readonly outdir: string;
  /** Package name, e.g. `@gitlab-fargate/config`. */
  readonly name: string;
  readonly description: string;
  readonly deps?: string[];
  readonly devDeps?: string[];
  /** Command name → file under `dist/`. */
  readonly bin?: Record<string, string>;
  /** Tools are not published. */
  readonly private?: boolean;
  /** The package's tests start containers: its test task first makes sure a Docker engine answers. */
  readonly testsNeedDocker?: boolean;
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
    bin: options.bin,
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
  // npm workspaces: only the root installs; a per-package `npm install` would look for siblings on the registry.
  (project.package as unknown as { installDependencies: () => void }).installDependencies = () => {};
  project.package.addField('type', 'module');
  project.package.addField('exports', { '.': { types: './dist/index.d.ts', default: './dist/index.js' } });
  project.package.addField('files', ['dist', '!dist/**/*.test.*', '!dist/tsconfig.tsbuildinfo', 'README.md']);
  if (options.private) {
    project.package.addField('private', true);
  }

  // Nx orders the tasks, so its `build` is projen's `compile` alone (projen's locked `build` also tests and packs).
  project.package.addField('nx', {
    includedScripts: ['test', 'typecheck'],
    targets: { build: { command: 'projen compile', options: { cwd: '{projectRoot}' } } },
  });
  project.packageTask.reset();
  project.postCompileTask.reset();
  project.preCompileTask.reset();
  project.addTask('typecheck', { description: 'Type-check sources and tests', exec: 'tsc --noEmit -p tsconfig.dev.json' });

  project.testTask.reset();
  if (options.testsNeedDocker) {
    project.testTask.exec('bash ../../tools/docker/ensure-engine');
  }
  // The JSON report is what .ci/run sums into its closing "N passed, N failed" line.
  project.testTask.exec('vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json', {
    receiveArgs: true,
  });
  project.gitignore.exclude('test-results/');
  project.npmignore?.exclude('test-results/', 'vitest.config.mts', 'tsconfig.dev.json');
  return project;
}
