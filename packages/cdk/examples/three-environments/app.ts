// Synthesizes the dev, staging and production runner environments and their deploy roles.
//
//   cd packages/cdk && npx cdk synth        (packages/cdk/cdk.json runs this file with tsx)
//
// The cdk.json sits in packages/cdk, not here: npx runs commands from the workspace package's folder.
//
// Context (-c key=value or cdk.json): gitlabUrl, projectPath, devAccount / stagingAccount / productionAccount
// (one account each; omitted = env-agnostic, one account), devShortToken / stagingShortToken /
// productionShortToken (switch on the orphan reapers), jobImage / managerImage (image build contexts).
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { requireManagerBuildContext } from './build-context';
import { defineThreeEnvironments, ENVIRONMENT_NAMES, EnvironmentName } from './environments';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};
const perEnvironment = (suffix: string) =>
  Object.fromEntries(
    ENVIRONMENT_NAMES.flatMap((name) => {
      const value = context(`${name}${suffix}`);
      return value === undefined ? [] : [[name, value]];
    }),
  ) as Partial<Record<EnvironmentName, string>>;

const repositoryRoot = path.resolve(__dirname, '../../../..');
const managerImageDirectory = context('managerImage') ?? path.join(repositoryRoot, 'images/runner-manager');
requireManagerBuildContext(managerImageDirectory);
defineThreeEnvironments(app, {
  jobImageDirectory: context('jobImage') ?? path.join(repositoryRoot, 'images/ci-coordinator'),
  managerImageDirectory,
  gitlabUrl: context('gitlabUrl') ?? 'https://gitlab.com',
  projectPath: context('projectPath') ?? 'acme/web-app',
  accounts: perEnvironment('Account'),
  runnerShortTokens: perEnvironment('ShortToken'),
});
app.synth();
