import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, test } from 'vitest';
import { GitLabOidcDeployRole, GitLabOidcDeployRoleProps, GitLabRefType } from '../src';
import { newStack } from './helpers';

function deployRole(props: Omit<GitLabOidcDeployRoleProps, 'provider'>) {
  const { stack } = newStack();
  const provider = new iam.OidcProviderNative(stack, 'GitLab', {
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
  });
  const role = new GitLabOidcDeployRole(stack, 'Deploy', { provider, ...props });
  return { stack, role, provider };
}

function trustStatement(template: Template) {
  const roles = Object.values(template.findResources('AWS::IAM::Role'));
  expect(roles).toHaveLength(1);
  return roles[0]?.Properties.AssumeRolePolicyDocument.Statement;
}

describe('GitLabOidcDeployRole', () => {
  test('trusts exactly one project and ref through the GitLab provider, for one audience', () => {
    const { stack } = deployRole({ projectPath: 'acme/platform/web', environment: 'production' });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    const statements = trustStatement(template);
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement.Effect).toBe('Allow');
    expect(JSON.stringify(statement.Principal)).toMatch(/^\{"Federated":\{"Ref":"GitLab[0-9A-F]+"\}\}$/);
    expect(statement.Condition).toEqual({
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com',
        'gitlab.com:sub': ['project_path:acme/platform/web:ref_type:branch:ref:main'],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      MaxSessionDuration: 3600,
      Description: 'GitLab CI deploys of acme/platform/web (branch main) to production',
    });
    // No permissions until granted.
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('tags, wildcard refs, a source VPC and a self-managed host', () => {
    const { stack } = deployRole({
      gitlabHost: 'gitlab.example.com',
      projectPath: 'acme/web',
      refs: ['v*'],
      refType: GitLabRefType.TAG,
      environment: 'staging',
      sourceVpcIds: ['vpc-0123456789abcdef0'],
      maxSessionDuration: Duration.hours(2),
    });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    const [statement] = trustStatement(template);
    expect(statement.Condition).toEqual({
      StringEquals: {
        'gitlab.example.com:aud': 'https://gitlab.example.com',
        'aws:SourceVpc': ['vpc-0123456789abcdef0'],
      },
      StringLike: { 'gitlab.example.com:sub': ['project_path:acme/web:ref_type:tag:ref:v*'] },
    });
    template.hasResourceProperties('AWS::IAM::Role', { MaxSessionDuration: 7200 });
  });

  test('grants go to the role', () => {
    const { stack, role } = deployRole({ projectPath: 'acme/web', environment: 'dev' });
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: ['*'] }),
    );
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('DeployRole') }],
    });
  });

  test('grantCdkDeploy allows exactly the CDK bootstrap roles of its own account and Region', () => {
    const { stack, role } = deployRole({ projectPath: 'acme/web', environment: 'production' });
    role.grantCdkDeploy();
    const arn = (kind: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/cdk-hnb659fds-${kind}-role-`,
        { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{
          Sid: 'AssumeCdkBootstrapRoles',
          Effect: 'Allow',
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(arn),
        }],
      },
    });
  });

  test('grantCdkDeploy refuses a malformed bootstrap qualifier', () => {
    const { stack, role } = deployRole({ projectPath: 'acme/web', environment: 'dev' });
    role.grantCdkDeploy('Not_Valid!');
    Annotations.fromStack(stack).hasError('*', Match.stringLikeRegexp('qualifier "Not_Valid!" must be the bootstrap qualifier'));
  });

  test('trusting a whole group, every ref or an https host is an error', () => {
    const { stack } = deployRole({
      gitlabHost: 'https://gitlab.com',
      projectPath: 'acme/*',
      refs: ['*'],
      environment: 'prod;',
    });
    const errors = Annotations.fromStack(stack)
      .findError('*', Match.anyValue())
      .map((m) => String(m.entry.data));
    expect(errors).toEqual([
      expect.stringMatching(/^gitlabHost "https:\/\/gitlab.com" must be the provider URL without https:\/\//),
      expect.stringMatching(/^projectPath "acme\/\*" must be a full project path/),
      expect.stringMatching(/^refs entry "\*" would trust every branch/),
      expect.stringMatching(/^environment "prod;" must be a GitLab environment name/),
    ]);
  });
});
