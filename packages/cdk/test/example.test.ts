import * as fs from 'node:fs';
import { App, Token, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, test } from 'vitest';
import { defineThreeEnvironments, ThreeEnvironmentsOptions } from '../examples/three-environments/environments';
import { JOB_IMAGE_DIR, MANAGER_IMAGE_DIR, managerSettingsParameter } from './helpers';

const OPTIONS: ThreeEnvironmentsOptions = {
  jobImageDirectory: JOB_IMAGE_DIR,
  managerImageDirectory: MANAGER_IMAGE_DIR,
  gitlabUrl: 'https://gitlab.example.com',
  projectPath: 'acme/web-app',
  accounts: {},
  runnerShortTokens: { dev: 'dEv1AbC2x', staging: 'sTg1AbC2x', production: 'pRd1AbC2x' },
};

describe('examples/three-environments', () => {
  test('one account: three runner stacks and one deploy-roles stack, no errors, no cdk-nag finding', () => {
    const app = new App();
    const { runners, deployRoles } = defineThreeEnvironments(app, OPTIONS);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const report = /found in: (\S+\.json)/.exec(String(failure ?? ''))?.[1];
    expect(failure, report && fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : String(failure)).toBeUndefined();

    expect(runners.map((stack) => stack.stackName)).toEqual([
      'GitLabRunner-dev',
      'GitLabRunner-staging',
      'GitLabRunner-production',
    ]);
    for (const stack of [...runners, ...deployRoles]) {
      Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
      // Env-agnostic: synth needs no credentials and does no lookups.
      expect(Token.isUnresolved(stack.account)).toBe(true);
      expect(Token.isUnresolved(stack.region)).toBe(true);
    }

    const capacities: Record<string, unknown> = {};
    for (const [index, name] of ['dev', 'staging', 'production'].entries()) {
      const template = Template.fromStack(runners[index]!);
      template.hasOutput('RunnerTag', { Value: name });
      // docs/troubleshooting.md sends readers to these outputs: each must name one of the stack's log groups.
      const logGroups = template.findResources('AWS::Logs::LogGroup');
      for (const output of ['ManagerLogGroup', 'JobLogGroup']) {
        const value = template.findOutputs(output)[output]?.Value as { Ref?: string } | undefined;
        expect(Object.keys(logGroups), `${name} ${output}`).toContain(value?.Ref);
      }
      expect(template.findOutputs('ManagerLogGroup').ManagerLogGroup?.Value).not.toEqual(template.findOutputs('JobLogGroup').JobLogGroup?.Value);
      expect(managerSettingsParameter(template, 'RunnerManagerSettings')).toMatchObject({ RUNNER_TAGS: name });
      // The manager controller's schedule and the orphan reaper's.
      template.resourceCountIs('AWS::Events::Rule', 2);
      template.resourceCountIs('AWS::EC2::FlowLog', 1);
      capacities[name] = Object.values(template.findResources('AWS::ECS::ClusterCapacityProviderAssociations'))[0]
        ?.Properties.DefaultCapacityProviderStrategy;
    }
    expect(capacities).toEqual({
      dev: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
      staging: [
        { CapacityProvider: 'FARGATE', Weight: 1 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 3 },
      ],
      production: [{ CapacityProvider: 'FARGATE', Weight: 1 }],
    });
    Template.fromStack(runners[2]!).resourceCountIs('AWS::EC2::VPCEndpoint', 8);

    expect(deployRoles).toHaveLength(1);
    const roles = Template.fromStack(deployRoles[0]!);
    roles.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    // One audience per environment: the provider accepts all three, each role only its own.
    const audiences = ['dev', 'staging', 'production'].map((name) => `https://gitlab.example.com/deploy/${name}`);
    roles.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://gitlab.example.com', ClientIdList: audiences });
    const conditions = Object.values(roles.findResources('AWS::IAM::Role')).map(
      (role) => role.Properties.AssumeRolePolicyDocument.Statement[0].Condition,
    );
    expect(conditions.map((condition) => condition.StringEquals['gitlab.example.com:aud'])).toEqual(audiences);
    const subjects = conditions.map(
      (condition) => condition.StringLike?.['gitlab.example.com:sub'] ?? condition.StringEquals['gitlab.example.com:sub'],
    );
    expect(subjects).toEqual([
      ['project_path:acme/web-app:ref_type:branch:ref:main', 'project_path:acme/web-app:ref_type:branch:ref:develop'],
      ['project_path:acme/web-app:ref_type:branch:ref:main'],
      ['project_path:acme/web-app:ref_type:branch:ref:main'],
    ]);
    // Production's role also wants the call to come through the STS endpoint in production's runner VPC.
    expect(conditions.map((condition) => Object.keys(condition.StringEquals).includes('aws:SourceVpc'))).toEqual([
      false,
      false,
      true,
    ]);
    const [imported] = conditions[2].StringEquals['aws:SourceVpc'];
    const exported = Object.values(Template.fromStack(runners[2]!).toJSON().Outputs as Record<string, any>).find(
      (output) => output.Export?.Name === imported['Fn::ImportValue'],
    );
    expect(exported?.Value, "production's own runner VPC").toEqual(runners[2]!.resolve(runners[2]!.vpc.vpcId));
    // Each deploy role may run `cdk deploy`: assume its account's bootstrap roles, nothing else.
    roles.resourcePropertiesCountIs('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Sid: 'AssumeCdkBootstrapRoles', Action: ['sts:AssumeRole', 'sts:TagSession'] })] },
    }, 3);
  });

  test('one account each: every stack is pinned to its account, with its own OIDC provider', () => {
    const app = new App();
    const { runners, deployRoles } = defineThreeEnvironments(app, {
      ...OPTIONS,
      accounts: { dev: '111111111111', staging: '222222222222', production: '333333333333' },
    });
    expect(runners.map((stack) => stack.account)).toEqual(['111111111111', '222222222222', '333333333333']);
    expect(deployRoles.map((stack) => [stack.stackName, stack.account])).toEqual([
      ['GitLabDeployRoles-dev', '111111111111'],
      ['GitLabDeployRoles-staging', '222222222222'],
      ['GitLabDeployRoles-production', '333333333333'],
    ]);
    for (const [index, stack] of deployRoles.entries()) {
      const template = Template.fromStack(stack);
      const name = ['dev', 'staging', 'production'][index];
      template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
      // Each account's provider accepts only its own environment's audience.
      template.hasResourceProperties('AWS::IAM::OIDCProvider', {
        ClientIdList: [`https://gitlab.example.com/deploy/${name}`],
      });
      template.resourceCountIs('AWS::IAM::Role', 1);
      Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    }
  });
});
