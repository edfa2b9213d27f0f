import { cdkConstructLibrary } from './projenrc/cdk-package';
import { esmPackage } from './projenrc/esm-package';
import { publishedPackages } from './projenrc/release';
import { versions } from './projenrc/versions';
import { workspaceRoot } from './projenrc/workspace';

const root = workspaceRoot();

/**
 * The generated images (packages/images writes them): local-stack builds the ci-coordinator job image from
 * images/ci-coordinator, so its tests and those of every tool that runs jobs on it must rerun when they change
 * rather than replay a cached result (.ci/nx-inputs.test.mjs checks this).
 */
const GENERATED_IMAGES = '{workspaceRoot}/images/**/*';

/** The sshd test image the driver's and the emulator's tests share: their tests rerun when it changes. */
const SSHD_FIXTURE = '{workspaceRoot}/tools/docker/fixtures/sshd/**/*';

/** The private tools that install a command (`bin`). */
const toolsWithCommands = [
  '@gitlab-fargate/ecs-emulator',
  '@gitlab-fargate/runner-harness',
  '@gitlab-fargate/demo',
  '@gitlab-fargate/bench',
];

esmPackage(root, {
  outdir: 'packages/config',
  name: '@gitlab-fargate/config',
  description: 'Typed model, validator and renderer for the gitlab-fargate driver TOML and gitlab-runner config.toml',
  deps: [`smol-toml@${versions.smolToml}`],
  devDeps: [`fast-check@${versions.fastCheck}`],
  bin: { 'gitlab-fargate-config': 'dist/cli.js' },
});

esmPackage(root, {
  outdir: 'packages/driver',
  name: '@gitlab-fargate/driver',
  description: 'GitLab Runner custom-executor driver that runs each CI job in its own ECS Fargate task, over SSH',
  deps: [
    '@gitlab-fargate/config@0.0.0',
    `@aws-sdk/client-ecs@${versions.awsSdk}`,
    `@aws-sdk/client-ec2@${versions.awsSdk}`,
    `ssh2@${versions.ssh2}`,
    `prom-client@${versions.promClient}`,
  ],
  devDeps: [
    `@types/ssh2@${versions.typesSsh2}`,
    `aws-sdk-client-mock@${versions.awsSdkClientMock}`,
    `aws-sdk-client-mock-vitest@${versions.awsSdkClientMockVitest}`,
    `esbuild@${versions.esbuild}`,
    `fast-check@${versions.fastCheck}`,
    `testcontainers@${versions.testcontainers}`,
  ],
  bin: { 'gitlab-fargate-driver': 'dist/cli.js' },
  testsNeedDocker: true,
  testInputs: [SSHD_FIXTURE],
  // The runner-manager image carries the split bundle (packages/driver/README.md "Bundle"); the single file is kept for simple copies.
  bundle: { exec: 'node scripts/bundle.mjs && node scripts/bundle.mjs --split', outputs: ['dist/gitlab-fargate-driver.mjs', 'dist/bundle'] },
  // The native run client's source and build script, which gitlab-fargate-images context finds beside the driver; not
  // dist/native/, a binary native/build.sh made for this machine.
  packFiles: ['native', '!dist/native'],
});

esmPackage(root, {
  outdir: 'packages/images',
  name: '@gitlab-fargate/images',
  description: 'Generates the ci-coordinator job image and the runner-manager image: Dockerfiles and entrypoints',
  devDeps: [
    '@gitlab-fargate/config@0.0.0',
    `testcontainers@${versions.testcontainers}`,
    `ssh2@${versions.ssh2}`,
    `@types/ssh2@${versions.typesSsh2}`,
  ],
  bin: { 'gitlab-fargate-images': 'dist/cli.js' },
  testsNeedDocker: true,
});

esmPackage(root, {
  outdir: 'tools/ecs-emulator',
  name: '@gitlab-fargate/ecs-emulator',
  description: 'Local Amazon ECS emulator: the ECS JSON API on 127.0.0.1, tasks as Docker containers, AWS faults and limits',
  private: true,
  // The Fargate task-size table has one home, the config package.
  deps: ['@gitlab-fargate/config@0.0.0'],
  devDeps: [
    `@aws-sdk/client-ecs@${versions.awsSdk}`,
    `@aws-sdk/client-ec2@${versions.awsSdk}`,
    `ssh2@${versions.ssh2}`,
    `@types/ssh2@${versions.typesSsh2}`,
  ],
  bin: { 'gitlab-fargate-ecs-emulator': 'dist/cli.js' },
  testsNeedDocker: true,
  // The sshd test image its tests run tasks from (shared with the driver's tests).
  testInputs: [SSHD_FIXTURE],
});

esmPackage(root, {
  outdir: 'tools/runner-harness',
  name: '@gitlab-fargate/runner-harness',
  description: "Plays gitlab-runner's side of the custom-executor protocol, to run CI jobs through a driver locally",
  private: true,
  deps: ['@gitlab-fargate/config@0.0.0', `yaml@${versions.yaml}`],
  bin: { 'gitlab-fargate-runner-harness': 'dist/cli.js' },
});

esmPackage(root, {
  outdir: 'tools/local-stack',
  name: '@gitlab-fargate/local-stack',
  description: 'A local stand-in for a Fargate runner environment: the ECS emulator, the job image, a cluster and the driver configuration',
  private: true,
  deps: [
    '@gitlab-fargate/config@0.0.0',
    '@gitlab-fargate/docker-bootstrap@0.0.0',
    '@gitlab-fargate/driver@0.0.0',
    '@gitlab-fargate/ecs-emulator@0.0.0',
    `@aws-sdk/client-ecs@${versions.awsSdk}`,
  ],
  testsNeedDocker: true,
  testInputs: [GENERATED_IMAGES],
});

esmPackage(root, {
  outdir: 'tools/e2e',
  name: '@gitlab-fargate/e2e',
  description: 'End-to-end tests: jobs through the runner harness, the driver, the ECS emulator and the job image',
  private: true,
  deps: [
    '@gitlab-fargate/config@0.0.0',
    '@gitlab-fargate/driver@0.0.0',
    '@gitlab-fargate/ecs-emulator@0.0.0',
    '@gitlab-fargate/local-stack@0.0.0',
    '@gitlab-fargate/runner-harness@0.0.0',
    `@aws-sdk/client-ecs@${versions.awsSdk}`,
  ],
  // src/managers/controller-lambda.int.test.ts loads the cdk package's bundled controller (assets/manager-controller),
  // which the cdk build makes: a dependency, so that Nx builds it first and reruns the test when it changes.
  devDeps: [`ssh2@${versions.ssh2}`, `@types/ssh2@${versions.typesSsh2}`, '@gitlab-fargate/cdk@0.0.0'],
  testsNeedDocker: true,
  testInputs: [GENERATED_IMAGES],
});

esmPackage(root, {
  outdir: 'tools/demo',
  name: '@gitlab-fargate/demo',
  description: "The quick-start demo: the seed article's job end to end on a local stack",
  private: true,
  deps: ['@gitlab-fargate/local-stack@0.0.0', '@gitlab-fargate/runner-harness@0.0.0'],
  bin: { 'gitlab-fargate-demo': 'dist/cli.js' },
  testsNeedDocker: true,
  testInputs: [GENERATED_IMAGES],
});

esmPackage(root, {
  outdir: 'tools/bench',
  name: '@gitlab-fargate/bench',
  description: 'Benchmarks: driver start-up, job overhead, readiness lag, log throughput, concurrency and memory',
  private: true,
  deps: [...[
    '@gitlab-fargate/config@0.0.0',
    '@gitlab-fargate/driver@0.0.0',
    '@gitlab-fargate/ecs-emulator@0.0.0',
    '@gitlab-fargate/local-stack@0.0.0',
    '@gitlab-fargate/runner-harness@0.0.0',
    `@aws-sdk/client-ecs@${versions.awsSdk}`,
  ], `ssh2@${versions.ssh2}`],
  devDeps: [`@types/ssh2@${versions.typesSsh2}`],
  bin: { 'gitlab-fargate-bench': 'dist/cli.js' },
  testsNeedDocker: true,
  // The charts test compares docs/bench with what results/latest.json draws.
  testInputs: [GENERATED_IMAGES, '{workspaceRoot}/docs/bench/**/*'],
});

esmPackage(root, {
  outdir: 'tools/docker',
  name: '@gitlab-fargate/docker-bootstrap',
  description: 'Makes sure a Docker engine and the local Debian base image exist on a bare Debian machine',
  private: true,
  testsNeedDocker: true,
});

esmPackage(root, {
  outdir: 'tools/pipeline',
  name: '@gitlab-fargate/pipeline',
  description: 'Checks .gitlab-ci.yml: its structure, GitLab CI semantics with gitlab-ci-local, and its AWS-free jobs run locally',
  private: true,
  devDeps: [`yaml@${versions.yaml}`, `gitlab-ci-local@${versions.gitlabCiLocal}`],
  // gitlab-ci-local copies the project with rsync before it runs a job, even with the shell executor.
  testSetup: ['bash scripts/ensure-rsync'],
  // The pipeline and what its `validate` job and the structure checks read.
  testInputs: [
    '{workspaceRoot}/.gitlab-ci.yml',
    '{workspaceRoot}/examples/**/*',
    GENERATED_IMAGES,
    '{workspaceRoot}/packages/cdk/examples/**/*',
    '{workspaceRoot}/packages/config/src/**/*',
    '{workspaceRoot}/packages/images/src/**/*',
  ],
});

esmPackage(root, {
  outdir: 'tools/packaging',
  name: '@gitlab-fargate/packaging',
  description: 'Proves every published package installs from its npm pack tarball into an empty folder and works there',
  private: true,
  // Workspace dependencies only so that Nx builds the four packages before these tests pack them.
  devDeps: [...publishedPackages.map((name) => `${name}@0.0.0`), `eslint@${versions.eslint}`],
  // src/workspace-bins.test.ts runs their commands from the repository root. Not dependencies: the tests never
  // import them or run their jobs, so they must not inherit their Nx inputs (the job image).
  buildFirst: toolsWithCommands,
});

esmPackage(root, {
  outdir: 'tools/docs-check',
  name: '@gitlab-fargate/docs-check',
  description: 'Checks the Markdown: every relative link and anchor resolves, every command line shown names verbs and options the CLI accepts',
  private: true,
  // The tests ask every command for its help, so each must be built first; they never import them.
  buildFirst: [...publishedPackages.filter((name) => name !== '@gitlab-fargate/cdk'), ...toolsWithCommands],
  testInputs: ['{workspaceRoot}/**/*.md'],
});

cdkConstructLibrary(root, {
  outdir: 'packages/cdk',
  name: '@gitlab-fargate/cdk',
  description: 'AWS CDK constructs for GitLab runners whose jobs each run in their own ECS Fargate task',
});

root.synth();
