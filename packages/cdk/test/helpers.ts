import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RunnerEnvironmentProps, RunnerToken, TaskImage } from '../src';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const JOB_IMAGE_DIR = path.join(FIXTURES, 'ci-coordinator');
export const MANAGER_IMAGE_DIR = path.join(FIXTURES, 'runner-manager');

/** An env-agnostic stack with a VPC that has public, private (one NAT gateway) and isolated subnets. */
export function newStack(id = 'Test'): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const app = new App();
  const stack = new Stack(app, id);
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  Validations.of(vpc).acknowledge({
    id: 'AwsSolutions::AwsSolutions-VPC7',
    reason: 'Test fixture: flow logs belong to whoever owns the VPC, not to the runner constructs under test.',
  });
  return { app, stack, vpc };
}

/** Valid props: images from the fixtures, the token referenced by secret name, an orphan reaper. */
export function validProps(stack: Stack, vpc: ec2.IVpc, environmentName = 'dev'): RunnerEnvironmentProps {
  return {
    environmentName,
    vpc,
    runnerToken: RunnerToken.fromSecretsManager(
      secretsmanager.Secret.fromSecretNameV2(stack, `${environmentName}Token`, `gitlab/${environmentName}/runner`),
    ),
    job: { image: TaskImage.fromAsset(JOB_IMAGE_DIR) },
    manager: { image: TaskImage.fromAsset(MANAGER_IMAGE_DIR) },
    // A short token as gitlab-runner makes one: 9 characters, without the token's glrt- and t3_ prefixes.
    orphanReaper: { runnerShortToken: `${environmentName.slice(0, 3)}Xy9Ab1` },
  };
}

/** Every IAM policy statement in a template, with the logical ID of the policy it belongs to. */
export function iamStatements(template: { toJSON(): { [key: string]: unknown } }): Array<{
  policy: string;
  statement: { [key: string]: unknown };
}> {
  const resources = (template.toJSON().Resources ?? {}) as { [id: string]: { Type: string; Properties: any } };
  const found: Array<{ policy: string; statement: { [key: string]: unknown } }> = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      for (const statement of resource.Properties.PolicyDocument.Statement) found.push({ policy: id, statement });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const inline of resource.Properties.Policies ?? []) {
        for (const statement of inline.PolicyDocument.Statement) found.push({ policy: id, statement });
      }
    }
  }
  return found;
}

/** The logical ID of the only resource of `type` whose logical ID contains `fragment`. */
export function logicalId(template: { toJSON(): { [key: string]: unknown } }, type: string, fragment: string): string {
  const resources = (template.toJSON().Resources ?? {}) as { [id: string]: { Type: string } };
  const ids = Object.keys(resources).filter((id) => resources[id]?.Type === type && id.includes(fragment));
  if (ids.length !== 1) throw new Error(`expected one ${type} matching ${fragment}, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

/**
 * The manager settings parameter's JSON object (the managers' settings and `GITLAB_FARGATE_MANAGER_VERSION`), each
 * deploy-time reference put back as the template has it (`{ Ref }`, `{ Fn::GetAtt }`, `{ Fn::Join }`).
 */
export function managerSettingsParameter(
  template: { toJSON(): { [key: string]: unknown } },
  fragment: string,
): { [name: string]: unknown } {
  const id = logicalId(template, 'AWS::SSM::Parameter', fragment);
  const value = (template.toJSON().Resources as { [id: string]: { Properties: { Value: unknown } } })[id]!.Properties.Value;
  const parts = typeof value === 'string' ? [value] : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const references: unknown[] = [];
  const text = parts.map((part) => (typeof part === 'string' ? part : `@@${references.push(part) - 1}@@`)).join('');
  return Object.fromEntries(
    Object.entries(JSON.parse(text) as { [name: string]: string }).map(([name, setting]) => {
      const reference = /^@@(\d+)@@$/.exec(setting);
      return [name, reference ? references[Number(reference[1])] : setting];
    }),
  );
}
