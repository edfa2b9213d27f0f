import { JsonFile, awscdk, javascript } from 'projen';
import { UNIT_TEST_TASK, VITEST_ALL, VITEST_UNIT } from './unit-tests';
import { nodeEngines, versions } from './versions';

export interface CdkConstructLibraryOptions {
  readonly outdir: string;
  readonly name: string;
  readonly description: string;
}

/**
 * The jsii construct library. jsii owns its tsconfig (CommonJS), so unlike the ESM packages its tests live in
 * `test/` rather than beside the code: jsii compiles every file under `src/`.
 */
export function cdkConstructLibrary(
  parent: javascript.NodeProject,
  options: CdkConstructLibraryOptions,
): awscdk.AwsCdkConstructLibrary {
  const project = new awscdk.AwsCdkConstructLibrary({
    parent,
    outdir: options.outdir,
    name: options.name,
    description: options.description,
    author: 'gitlab-fargate contributors',
    authorAddress: 'maintainers@gitlab-fargate.dev',
    repositoryUrl: 'https://gitlab.com/gitlab-fargate/gitlab-fargate.git',
    repositoryDirectory: options.outdir,
    defaultReleaseBranch: 'main',
    packageManager: javascript.NodePackageManager.NPM,
    cdkVersion: versions.awsCdkLib,
    constructsVersion: versions.constructs,
    jsiiVersion: versions.jsii,
    typescriptVersion: `~${versions.typescript}`,
    minNodeVersion: versions.node,
    license: 'Apache-2.0',
    jest: false,
    eslint: false,
    prettier: false,
    sampleCode: false,
    // API.md from the TSDoc: the constructs' reference, instead of tables copied by hand into the README.
    docgen: true,
    depsUpgrade: false,
    buildWorkflow: false,
    release: false,
    github: false,
    projenrcTs: false,
    publishToPypi: { distName: 'gitlab-fargate.cdk', module: 'gitlab_fargate.cdk' },
    devDeps: [
      `vitest@${versions.vitest}`,
      `cdk-nag@${versions.cdkNag}`,
      `aws-cdk@${versions.awsCdkCli}`,
      `@types/node@${versions.typesNode}`,
      // scripts/bundle-controller.mjs bundles the manager controller's Lambda handler from the driver's sources.
      `esbuild@${versions.esbuild}`,
      // test/fargate-sizes.test.ts checks src/validation/fargate-sizes.ts against the config package's table.
      '@gitlab-fargate/config@0.0.0',
    ],
  });
  (project.package as unknown as { installDependencies: () => void }).installDependencies = () => {};
  // The Node.js lines CI tests, not an open-ended floor (projenrc/versions.ts).
  project.package.addEngine('node', nodeEngines);
  // projen adds these unversioned while constructing; pin them afterwards or it drops them on resolution.
  project.addDevDeps(`jsii-pacmak@${versions.jsiiPacmak}`, `jsii-diff@${versions.jsiiDiff}`, `jsii-docgen@${versions.jsiiDocgen}`);
  // jsii-docgen looks for aws-cdk-lib's assembly below this package, but the workspace installs it at the root: the
  // script points it at the three assemblies (scripts/docgen.mjs). test/api-docs.test.ts fails when API.md is stale.
  project.tasks.tryFind('docgen')?.reset('node scripts/docgen.mjs');

  // jsii's tsconfig.json covers src/ only: the typecheck target also checks the tests and the example app.
  new JsonFile(project, 'tsconfig.dev.json', {
    obj: {
      extends: './tsconfig.json',
      compilerOptions: { rootDir: '.', noEmit: true },
      include: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts'],
    },
    marker: true,
  });
  project.npmignore?.exclude('/tsconfig.dev.json');

  // The manager controller's Lambda code: the driver's reconcile pass and its AWS SDK clients in one ES module,
  // bundled before jsii compiles so that lib/ and the asset come from the same sources. Not in git (a build output);
  // in the npm tarball (.npmignore keeps it), where ManagerController finds it beside lib/.
  project.compileTask.prependExec('node scripts/bundle-controller.mjs');
  project.gitignore.exclude('/assets/manager-controller/');

  project.package.addField('nx', {
    includedScripts: ['test', UNIT_TEST_TASK],
    // The renderer contract test runs the config package's CLI: Nx must build it first (`^build`). The controller's
    // asset is bundled from the driver's sources, so a change there must rebuild this package (Nx inputs `^production`).
    implicitDependencies: ['@gitlab-fargate/config', '@gitlab-fargate/driver'],
    targets: {
      build: {
        command: 'projen compile',
        options: { cwd: '{projectRoot}' },
        outputs: ['{projectRoot}/dist', '{projectRoot}/lib', '{projectRoot}/assets/manager-controller'],
      },
      typecheck: { command: 'tsc --noEmit -p tsconfig.dev.json', options: { cwd: '{projectRoot}' } },
      pack: { command: 'jsii-pacmak --targets js', options: { cwd: '{projectRoot}' }, dependsOn: ['build'] },
    },
  });
  project.testTask.reset(VITEST_ALL, { receiveArgs: true });
  project.addTask(UNIT_TEST_TASK, { description: 'Run the unit tests alone (no *.int.test.ts, no Docker)', exec: VITEST_UNIT, receiveArgs: true });
  project.gitignore.exclude('test-results/', 'cdk.out/');
  // The example app imports the sources (not shipped) and cdk.json runs it: both are for a checkout only.
  project.npmignore?.exclude('test-results/', 'vitest.config.mts', '/examples/', '/cdk.json', 'cdk.out/');
  return project;
}
