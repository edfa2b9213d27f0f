/**
 * Every third-party version the workspace uses, pinned exactly (README "Commands": `npx projen` after a change).
 * Node 20.20 is the floor: vitest 5, testcontainers 12 and aws-sdk-client-mock-vitest 8 need Node 22.
 */
export const versions = {
  node: '20.19.0',
  /**
   * The later Node.js lines CI also runs the unit and packaging tests on (.ci/run), from the npm registry's
   * node-linux-<arch> packages. `engines` names these lines (see {@link nodeEngines}).
   */
  testedNodes: ['22.23.5', '24.22.3'],
  nx: '23.3.1',
  typescript: '5.9.3',
  vitest: '4.1.12',
  vite: '8.3.8',
  tsx: '4.23.15',
  esbuild: '0.28.2',
  projen: '0.103.25',
  typesNode: '20.19.25',
  awsSdk: '3.1164.0',
  ssh2: '1.17.0',
  promClient: '15.1.3',
  typesSsh2: '1.15.6',
  smolToml: '1.9.1',
  fastCheck: '4.11.0',
  // StrykerJS 9 runs on Node 20; 10 needs 22.
  stryker: '9.5.1',
  yaml: '2.9.1',
  testcontainers: '11.14.0',
  awsSdkClientMock: '4.1.0',
  awsSdkClientMockVitest: '7.1.0',
  awsCdkLib: '2.276.0',
  constructs: '10.8.1',
  awsCdkCli: '2.1148.1',
  jsii: '~5.9.50',
  jsiiPacmak: '1.140.0',
  // jsii-diff lags jsii-pacmak: 1.140.0 does not exist.
  jsiiDiff: '1.134.0',
  // packages/cdk/API.md is generated from the TSDoc by it (test/api-docs.test.ts keeps it current).
  jsiiDocgen: '10.12.6',
  cdkNag: '3.0.2',
  // 4.74.0 and 4.75.x crash on Node 20 (they call Set.prototype.union).
  gitlabCiLocal: '4.73.0',
  // Lint (`npm run lint`): ESLint 10 and knip 6 need Node 20.19.
  eslint: '10.16.0',
  typescriptEslint: '8.74.0',
  eslintPluginImportX: '4.18.1',
  knip: '6.44.2',
} as const;

/**
 * `engines.node` of every package: the floor on Node 20 and each later line CI tests, from the version tested, e.g.
 * `^20.19.0 || ^22.23.5 || ^24.22.3`. AWS SDK v3 drops Node 20 in January 2027.
 */
export const nodeEngines = [versions.node, ...versions.testedNodes].map((version) => `^${version}`).join(' || ');
