import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
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
    // All but the settle time, whose default the construct keeps; and AWS_REGION, for the SDK.
    expect(Object.keys(environment.controller.environment).sort()).toEqual(
      [...names.filter((name) => name !== 'MANAGER_DRAIN_SETTLE_SECONDS'), 'AWS_REGION'].sort(),
    );
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

  test('the controller runs in the manager subnets without a public IP, with HTTPS out only', () => {
    const { template } = synth();
    const group = logicalId(template, 'AWS::EC2::SecurityGroup', 'DevManagerControllerSecurityGroup');
    expect(template.toJSON().Resources[group].Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'ECS, ECR and CloudWatch APIs', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
    expect(template.toJSON().Resources[group].Properties.SecurityGroupIngress).toBeUndefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          EcsParameters: Match.objectLike({
            NetworkConfiguration: {
              AwsVpcConfiguration: {
                AssignPublicIp: 'DISABLED',
                SecurityGroups: [{ 'Fn::GetAtt': [group, 'GroupId'] }],
                Subnets: [{ Ref: Match.stringLikeRegexp('^VpcprivateSubnet1') }, { Ref: Match.stringLikeRegexp('^VpcprivateSubnet2') }],
              },
            },
          }),
        }),
      ],
    });
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
});
