import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, FileSystem } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, test } from 'vitest';
import { ManagerController, RunnerEnvironment, RunnerEnvironmentProps, RunnerManager, TaskImage } from '../src';
import { logicalId, managerSettingsParameter, newStack, validProps } from './helpers';

/** The driver's source, which the cdk package cannot import (jsii packages depend on jsii packages only). */
const driverSource = (file: string): string => fs.readFileSync(path.resolve(__dirname, '../../driver/src', file), 'utf8');

function synth(change: (props: RunnerEnvironmentProps, vpc: ec2.Vpc) => RunnerEnvironmentProps = (props) => props) {
  const { stack, vpc } = newStack();
  const environment = new RunnerEnvironment(stack, 'Dev', change(validProps(stack, vpc), vpc));
  const annotations = Annotations.fromStack(stack);
  const errors = annotations.findError('*', Match.anyValue()).map((message) => String(message.entry.data));
  const warnings = annotations.findWarning('*', Match.anyValue()).map((message) => String(message.entry.data));
  return { environment, template: Template.fromStack(stack), errors, warnings };
}

/** The manager task definition as CloudFormation gets it: what a new revision (a new manager version) depends on. */
function managerDefinition(template: Template): unknown {
  return template.toJSON().Resources[logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition')].Properties;
}

describe('the managers and their controller', () => {
  test("the controller's settings, tag and the managers' variables are the ones the driver reads", () => {
    const { environment } = synth();
    const settings = driverSource('managers/settings.ts');
    const block = /CONTROLLER_VARIABLES = \{([^}]*)\}/.exec(settings)?.[1] ?? '';
    const names = [...block.matchAll(/: '([A-Z_]+)'/g)].map((match) => match[1]);
    // All but the settle time, whose default the construct keeps (Lambda sets AWS_REGION itself).
    expect(Object.keys(environment.controller.environment).sort()).toEqual(names.filter((name) => name !== 'MANAGER_DRAIN_SETTLE_SECONDS').sort());
    expect(settings).toContain(`MANAGER_VERSION_VARIABLE = '${RunnerManager.VERSION_VARIABLE}'`);
    expect(driverSource('managers/reconcile.ts')).toContain(`DRAIN_STARTED_TAG = '${ManagerController.DRAIN_STARTED_TAG}'`);
    expect(driverSource('job/environment.ts')).toContain(`MANAGER_ID_VARIABLE = '${RunnerManager.MANAGER_ID_VARIABLE}'`);
    expect(driverSource('main.ts')).toContain("io.argv[0] === 'managers'");
  });

  test("every key of the settings parameter is one the runner-manager image reloads (it refuses the parameter otherwise)", () => {
    // The images package is not a jsii package either: its variable list is read from its source.
    const variables = fs.readFileSync(path.resolve(__dirname, '../../images/src/manager/variables.ts'), 'utf8');
    const list = /RELOADABLE_SETTING_VARIABLES: readonly string\[\] = \[([\s\S]*?)\n\];/.exec(variables)?.[1] ?? '';
    const reloadable = [...list.matchAll(/'([A-Z0-9_]+)'/g)].map((match) => match[1]);
    expect(reloadable).toContain('CONCURRENT');
    const { template } = synth((props) => ({ ...props, job: { ...props.job, offerArm64: true } }));
    const keys = Object.keys(managerSettingsParameter(template, 'DevManagerSettings'));
    expect(keys).toContain('ARM64_TASK_DEFINITION');
    expect(keys.filter((key) => key !== RunnerManager.VERSION_VARIABLE && !reloadable.includes(key))).toEqual([]);
  });

  test('the controller is a Lambda function outside the VPC, invoked every minute, one pass at a time, that logs to its own group', () => {
    const { template } = synth();
    const fn = logicalId(template, 'AWS::Lambda::Function', 'DevManagerControllerFunction');
    const properties = template.toJSON().Resources[fn].Properties;
    expect(properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      // Less than the schedule's minute.
      Timeout: 50,
      ReservedConcurrentExecutions: 1,
      Role: { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevManagerControllerRole'), 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: logicalId(template, 'AWS::Logs::LogGroup', 'DevManagerControllerLogs') } },
    });
    // Not in a VPC: it only calls the ECS API, and needs no subnet, security group or NAT.
    expect(properties.VpcConfig).toBeUndefined();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    // A failed pass is not retried, and a throttled (second) invocation waits at most a minute: the next pass does the work.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: fn }, MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Events::Rule', 'DevManagerControllerSchedule'), 'Arn'] },
    });
    // No Fargate controller any more: the job's and the managers' task definitions only, and no controller security group.
    expect(Object.keys(template.findResources('AWS::ECS::TaskDefinition')).filter((id) => id.includes('Controller'))).toEqual([]);
    expect(Object.keys(template.findResources('AWS::EC2::SecurityGroup')).filter((id) => id.includes('Controller'))).toEqual([]);
  });

  test("the function's code is the bundled reconcile pass this package ships, with the AWS SDK it was built with", () => {
    const { template } = synth();
    const fn = template.toJSON().Resources[logicalId(template, 'AWS::Lambda::Function', 'DevManagerControllerFunction')];
    const assetDir = path.resolve(__dirname, '../assets/manager-controller');
    expect(fs.readdirSync(assetDir)).toEqual(['index.mjs']);
    const code = fs.readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    // One ES module, with no import but Node's own: the AWS SDK is inside, so the Lambda runtime's is never used.
    const imports = [...code.matchAll(/(?:^|[;}\n])\s*import\s*[\w$*{},\s]*?\s*from\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g)];
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.map((match) => match[1] ?? match[2]).filter((name) => !name!.startsWith('node:'))).toEqual([]);
    // The SDK's one optional require (SigV4a's CRT signer, inside a try): ECS never signs with SigV4a.
    expect([...new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]))]).toEqual(['@aws-sdk/signature-v4-crt']);
    expect(code).toMatch(/export\s*\{[^}]*\bhandler\b/);
    // The asset CloudFormation deploys is that folder, as it is: its key is the hash of the folder's content.
    expect(fn.Properties.Code.S3Key).toBe(`${FileSystem.fingerprint(assetDir)}.zip`);
  });

  test('a settings change rewrites the parameter and leaves the manager task definition (the version) alone', () => {
    const before = synth();
    const after = synth((props) => ({ ...props, concurrent: 20, runnerTags: ['dev', 'docker'], manager: { ...props.manager, count: 3, maxJobDuration: Duration.hours(1) } }));
    expect(managerDefinition(after.template)).toEqual(managerDefinition(before.template));
    expect(managerSettingsParameter(before.template, 'DevManagerSettings')).toMatchObject({ CONCURRENT: '10', RUNNER_TAGS: 'dev' });
    expect(managerSettingsParameter(after.template, 'DevManagerSettings')).toMatchObject({ CONCURRENT: '20', RUNNER_TAGS: 'dev,docker' });
    expect(after.environment.controller.environment).toMatchObject({ MANAGER_COUNT: '3', MANAGER_DRAIN_TIMEOUT_SECONDS: '4200' });
    // A new image is a new revision, so a new version: the managers are replaced (drained).
    const newImage = synth((props) => ({ ...props, manager: { ...props.manager, image: TaskImage.fromRegistry('registry.example/runner-manager:2') } }));
    expect(managerDefinition(newImage.template)).not.toEqual(managerDefinition(before.template));
  });

  test('warns when several managers would share one availability zone', () => {
    const oneZone = (count: number) =>
      synth((props, vpc) => ({ ...props, managerSubnets: { subnets: [vpc.privateSubnets[0]!] }, manager: { ...props.manager, count } }));
    const two = oneZone(2);
    expect(two.errors).toEqual([]);
    expect(two.warnings).toEqual([expect.stringMatching(/^The 2 runner managers all run in one availability zone: an outage of that zone stops every one of them/)]);
    expect(two.environment.controller.environment.MANAGER_SUBNETS).not.toContain(',');
    expect(oneZone(1).warnings).toEqual([]);
  });

  test('refuses a manager count outside 1-10 and the variables the construct sets, all at once', () => {
    const { errors } = synth((props) => ({
      ...props,
      manager: { ...props.manager, count: 11, extraEnvironment: { GITLAB_FARGATE_SETTINGS_PARAMETER: '/x', GITLAB_FARGATE_MANAGER_VERSION: '1', AWS_REGION: 'eu-west-1' } },
    }));
    expect(errors.sort()).toEqual([
      'manager count 11 must be a whole number from 1 to 10 (the managers of one environment).',
      ...['AWS_REGION', 'GITLAB_FARGATE_MANAGER_VERSION', 'GITLAB_FARGATE_SETTINGS_PARAMETER'].map(
        (name) => `manager extraEnvironment ${name}: this variable is set by the construct; use its own option.`,
      ),
    ].sort());
    expect(synth((props) => ({ ...props, manager: { ...props.manager, count: 0 } })).errors).toEqual([
      'manager count 0 must be a whole number from 1 to 10 (the managers of one environment).',
    ]);
  });

  test("the controller's log group keeps its lines as long as the managers' group (manager.logRetention)", () => {
    const { template } = synth((props) => ({ ...props, manager: { ...props.manager, logRetention: logs.RetentionDays.ONE_WEEK } }));
    const retention = (fragment: string) =>
      template.toJSON().Resources[logicalId(template, 'AWS::Logs::LogGroup', fragment)].Properties.RetentionInDays;
    expect(retention('DevManagerControllerLogs')).toBe(7);
    expect(retention('DevManagerLogs')).toBe(7);
  });
});
