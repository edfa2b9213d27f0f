import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedPackageProblems, tarballContentProblems } from './manifest.js';
import { cleanEnvironment, runProcess } from './process.js';
import { Sandbox } from './sandbox.js';
import { type PackedPackage, packPackage } from './tarball.js';
import { workspaceRoot } from './workspace.js';

// The versions a consumer installs next to the construct library (its peer dependencies).
const AWS_CDK_LIB = 'aws-cdk-lib@2.276.0';
const CONSTRUCTS = 'constructs@10.8.1';

/** A fresh CDK app as a consumer writes it (CommonJS, as `cdk init` does), with images from a registry. */
const APP = `
const { App, Stack } = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { RunnerEnvironment, RunnerToken, TaskImage } = require('@gitlab-fargate/cdk');

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'GitLabRunner-dev');
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
new RunnerEnvironment(stack, 'Runner', {
  environmentName: 'dev',
  vpc,
  gitlabUrl: 'https://gitlab.example.com',
  runnerToken: RunnerToken.fromSecretsManager(
    secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'gitlab-fargate/dev/runner-token'),
  ),
  job: { image: TaskImage.fromRegistry('registry.example.com/gitlab-fargate/ci-coordinator:1') },
  manager: { image: TaskImage.fromRegistry('registry.example.com/gitlab-fargate/runner-manager:1') },
});
const artifact = app.synth().getStackByName('GitLabRunner-dev');
console.log(JSON.stringify({
  resourceTypes: Object.values(artifact.template.Resources).map((resource) => resource.Type),
  errors: artifact.messages.filter((message) => message.level === 'error').map((message) => message.entry.data),
}));
`;

let sandbox: Sandbox;
let packed: PackedPackage;

beforeAll(async () => {
  sandbox = Sandbox.create('cdk');
  packed = await packPackage(join(workspaceRoot(), 'packages/cdk'), sandbox.dir);
  await sandbox.install([packed.tarball, AWS_CDK_LIB, CONSTRUCTS]);
});
afterAll(() => sandbox?.remove());

describe('@gitlab-fargate/cdk from its tarball', () => {
  it('packs the compiled constructs, the jsii assembly, README and LICENSE, and no sources or examples', () => {
    expect(packed.name).toBe('@gitlab-fargate/cdk');
    expect(tarballContentProblems(packed.files)).toEqual([]);
    // The manager controller's Lambda code: a bundle the constructs load from the installed package.
    expect(packed.files).toEqual(expect.arrayContaining(['lib/index.js', 'lib/index.d.ts', '.jsii', 'assets/manager-controller/index.mjs']));
    // The example app imports ../../src, which is not shipped; cdk.json would run it.
    const checkoutOnly = packed.files.filter((file) => /^(src|test|examples)\/|^cdk\.json$/.test(file));
    expect(checkoutOnly).toEqual([]);
  });

  it('installs into an empty folder with valid metadata and entry points', () => {
    expect(installedPackageProblems(join(sandbox.dir, 'node_modules/@gitlab-fargate/cdk'))).toEqual([]);
  });

  it('synthesizes a runner environment stack in a fresh CDK app', async () => {
    sandbox.write('app.cjs', APP);
    const result = await sandbox.runNode(['app.cjs']);
    expect(result.exitCode, result.stderr).toBe(0);
    const { resourceTypes, errors } = JSON.parse(result.stdout) as { resourceTypes: string[]; errors: unknown[] };
    expect(errors).toEqual([]);
    expect(resourceTypes).toEqual(
      // The managers run under the manager controller, a Lambda function an EventBridge rule invokes every minute.
      expect.arrayContaining([
        'AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::SSM::Parameter', 'AWS::Events::Rule', 'AWS::IAM::Role', 'AWS::Lambda::Function',
      ]),
    );
    expect(resourceTypes).not.toContain('AWS::ECS::Service');
    // The job's and the managers': the controller is no task any more.
    expect(resourceTypes.filter((type) => type === 'AWS::ECS::TaskDefinition')).toHaveLength(2);
  });

  it('packages for jsii consumers: jsii-pacmak --targets js makes a tarball carrying the assembly', async () => {
    const packageDir = join(workspaceRoot(), 'packages/cdk');
    const outdir = join(sandbox.dir, 'pacmak');
    const pacmak = join(workspaceRoot(), 'node_modules/.bin/jsii-pacmak');
    const result = await runProcess(pacmak, ['--targets', 'js', '--outdir', outdir], {
      cwd: packageDir,
      env: cleanEnvironment({ JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' }),
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const tarballs = readdirSync(join(outdir, 'js')).filter((file) => file.endsWith('.tgz'));
    expect(tarballs).toEqual([expect.stringMatching(/^cdk@0\.0\.0\.jsii\.tgz$/)]);
    const listing = await runProcess('tar', ['-tzf', join(outdir, 'js', tarballs[0]!)], { cwd: outdir });
    expect(listing.stdout.split('\n')).toEqual(
      expect.arrayContaining(['package/.jsii', 'package/lib/index.js', 'package/assets/manager-controller/index.mjs']),
    );
    // The assembly is what Python (and other jsii) bindings are generated from: the public constructs must be in it.
    const assembly = JSON.parse(readFileSync(join(packageDir, '.jsii'), 'utf8')) as { types: Record<string, unknown> };
    expect(Object.keys(assembly.types)).toEqual(
      expect.arrayContaining(['@gitlab-fargate/cdk.RunnerEnvironment', '@gitlab-fargate/cdk.GitLabOidcDeployRole', '@gitlab-fargate/cdk.RunnerVpcEndpoints']),
    );
  });
});
