import { JsonFile, javascript, typescript } from 'projen';
import { lint } from './lint';
import { nxRelease } from './release';
import { tsconfigBase } from './tsconfig-base';
import { UNIT_TEST_TASK } from './unit-tests';
import { nodeEngines, versions } from './versions';

/** Variables every Nx task sees; tests and CI rely on them (docs/testing.md). */
export const workspaceEnv: Record<string, string> = {
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  TESTCONTAINERS_RYUK_DISABLED: 'true',
  TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  CDK_DISABLE_VERSION_CHECK: '1',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

/** The root: npm workspaces, the dev toolchain, Nx configuration and the commands the README gives. */
export function workspaceRoot(): javascript.NodeProject {
  const root = new javascript.NodeProject({
    name: 'gitlab-fargate',
    description: 'Runs every GitLab CI job in its own AWS ECS Fargate task',
    defaultReleaseBranch: 'main',
    packageManager: javascript.NodePackageManager.NPM,
    projenrcJs: false,
    github: false,
    release: false,
    buildWorkflow: false,
    depsUpgrade: false,
    jest: false,
    licensed: true,
    license: 'Apache-2.0',
    copyrightOwner: 'gitlab-fargate contributors',
    minNodeVersion: versions.node,
    devDeps: [
      `nx@${versions.nx}`,
      `typescript@${versions.typescript}`,
      `vitest@${versions.vitest}`,
      `vite@${versions.vite}`,
      `tsx@${versions.tsx}`,
      `projen@${versions.projen}`,
      `constructs@${versions.constructs}`,
      `@types/node@${versions.typesNode}`,
      // nx release needs @nx/js's version actions; it must match nx exactly.
      `@nx/js@${versions.nx}`,
      // Mutation testing (`npm run mutation`, docs/testing.md).
      `@stryker-mutator/core@${versions.stryker}`,
      `@stryker-mutator/vitest-runner@${versions.stryker}`,
      // `npm run lint` (projenrc/lint.ts).
      `eslint@${versions.eslint}`,
      `typescript-eslint@${versions.typescriptEslint}`,
      `eslint-plugin-import-x@${versions.eslintPluginImportX}`,
      `knip@${versions.knip}`,
    ],
    gitignore: [
      '.nx/',
      'dist/',
      'test-results/',
      '*.tsbuildinfo',
      '.jsii',
      'tsconfig.tsbuildinfo',
      // gitlab-ci-local's state when someone runs the pipeline locally.
      '.gitlab-ci-local/',
      // StrykerJS's sandboxes and reports (`npm run mutation`).
      '.stryker-tmp/',
      '**/reports/mutation/',
    ],
  });
  new typescript.ProjenrcTs(root, { runner: typescript.TypeScriptRunner.tsx(), projenCodeDir: 'projenrc' });
  tsconfigBase(root);
  lint(root);

  root.package.addField('private', true);
  // The Node.js lines CI tests, not an open-ended floor (projenrc/versions.ts).
  root.package.addEngine('node', nodeEngines);
  root.package.addField('workspaces', ['packages/*', 'tools/*']);
  // npm 11 blocks dependency install scripts; all of these work without theirs. `false` silences the warning.
  root.package.addField('allowScripts', {
    esbuild: false,
    nx: false,
    ssh2: false,
    'cpu-features': false,
    protobufjs: false,
  });

  const nx = 'nx run-many --output-style=static';
  // projen's locked `build` runs compile then test: at the root those are the whole workspace's Nx targets.
  root.compileTask.reset(`${nx} -t build`);
  root.testTask.reset(`${nx} -t test`, { receiveArgs: true });
  // The root is not an Nx project: inferring targets from its scripts would make `test` run itself.
  root.package.addField('nx', { includedScripts: [] });
  root.addTask('typecheck', { description: 'Type-check every package', exec: `${nx} -t typecheck` });
  // The quick start: the seed article's job end to end on a local stack (emulator, driver, job image).
  const demo = root.addTask('demo', {
    description: "Run the seed article's CI job end to end on this machine: ECS emulator, driver and job image",
  });
  demo.exec(`${nx} -t build --projects=@gitlab-fargate/demo`);
  demo.exec('node tools/demo/dist/cli.js', { receiveArgs: true });
  const bench = root.addTask('bench', { description: 'Run the benchmarks and print their tables (see docs/benchmarks.md)' });
  bench.exec(`${nx} -t build --projects=@gitlab-fargate/bench`);
  bench.exec('node tools/bench/dist/cli.js', { receiveArgs: true });
  // Mutation testing of the modules where a silent mistake costs most; each package's stryker.config.mjs names them.
  const mutation = root.addTask('mutation', {
    description: 'Mutation testing (StrykerJS) of the allow-lists, limits, overrides, exit codes, state, host keys and cleanup',
  });
  mutation.exec(`${nx} -t build --projects=@gitlab-fargate/config,@gitlab-fargate/driver`);
  for (const folder of ['packages/config', 'packages/driver']) mutation.exec('stryker run', { cwd: folder });
  for (const [name, value] of Object.entries(workspaceEnv)) {
    root.tasks.addEnvironment(name, value);
  }

  new JsonFile(root, 'nx.json', {
    obj: {
      $schema: './node_modules/nx/schemas/nx-schema.json',
      namedInputs: {
        // Every ESM package's tsconfig.json extends the root's tsconfig.base.json.
        default: ['{projectRoot}/**/*', '!{projectRoot}/test-results/**', '{workspaceRoot}/tsconfig.base.json'],
        production: ['default', '!{projectRoot}/**/*.test.ts', '!{projectRoot}/test/**', '!{projectRoot}/vitest.config.*'],
      },
      targetDefaults: {
        build: { dependsOn: ['^build'], inputs: ['production', '^production'], outputs: ['{projectRoot}/dist', '{projectRoot}/lib'], cache: true },
        typecheck: { dependsOn: ['^build'], inputs: ['default', '^production'], cache: true },
        test: { dependsOn: ['build', '^build'], inputs: ['default', '^production'], outputs: ['{projectRoot}/test-results'], cache: true },
        [UNIT_TEST_TASK]: { dependsOn: ['build', '^build'], inputs: ['default', '^production'], outputs: ['{projectRoot}/test-results'], cache: true },
      },
      // A fresh clone must never replay another checkout's results from the shared ~/.nx cache.
      cacheDirectory: '.nx/cache',
      useDaemonProcess: false,
      neverConnectToCloud: true,
      analytics: false,
      tui: { enabled: false },
      release: nxRelease,
    },
  });
  return root;
}
