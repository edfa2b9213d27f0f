import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { RunnerEnvironment } from '../src';
import { iamStatements, logicalId, newStack, validProps } from './helpers';

type Statement = { [key: string]: any };
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

describe('IAM of a runner environment', () => {
  let template: Template;
  let statements: Array<{ policy: string; statement: Statement }>;

  beforeAll(() => {
    const { stack, vpc } = newStack();
    new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    template = Template.fromStack(stack);
    statements = iamStatements(template);
  });

  test('no statement has a wildcard action, and every statement allows', () => {
    expect(statements.length).toBeGreaterThan(10);
    for (const { policy, statement } of statements) {
      expect(statement.Effect, policy).toBe('Allow');
      for (const action of asList(statement.Action)) {
        expect(action, `${policy}: ${JSON.stringify(statement)}`).not.toMatch(/\*/);
      }
    }
  });

  test("a '*' resource appears only where IAM has no resource-level permissions, or with a cluster condition", () => {
    const clusterId = logicalId(template, 'AWS::ECS::Cluster', 'Dev');
    for (const { policy, statement } of statements) {
      if (!asList(statement.Resource).includes('*')) continue;
      const actions = asList(statement.Action);
      if (actions.includes('ecr:GetAuthorizationToken')) {
        expect(actions, policy).toEqual(['ecr:GetAuthorizationToken']);
      } else {
        expect(actions, policy).toEqual(['ecs:ListTasks']);
        expect(statement.Condition, policy).toEqual({
          ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } },
        });
      }
    }
  });

  test('the manager may only run, watch, tag and stop this environment’s job tasks and pass its two roles', () => {
    const managerPolicy = logicalId(template, 'AWS::IAM::Policy', 'DevManagerTaskRoleDefaultPolicy');
    const clusterId = logicalId(template, 'AWS::ECS::Cluster', 'Dev');
    const jobFamily = template.toJSON().Resources[logicalId(template, 'AWS::ECS::TaskDefinition', 'DevJobDefinition')]
      .Properties.Family;
    const account = ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }];
    const clusterTasks = { 'Fn::Join': ['', [...account, ':task/', { Ref: clusterId }, '/*']] };
    const manager = statements.filter((s) => s.policy === managerPolicy).map((s) => s.statement);
    expect(manager).toEqual([
      {
        Sid: 'RunJobTasks',
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: { 'Fn::Join': ['', [...account, `:task-definition/${jobFamily}:*`]] },
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } },
      },
      {
        Sid: 'WatchAndStopJobTasks',
        Effect: 'Allow',
        Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
        Resource: clusterTasks,
      },
      {
        Sid: 'ListJobTasks',
        Effect: 'Allow',
        Action: 'ecs:ListTasks',
        Resource: '*',
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } },
      },
      {
        Sid: 'TagJobTasksAtLaunch',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: clusterTasks,
        Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      },
      {
        Sid: 'PassJobRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevJobTaskRole'), 'Arn'] },
          { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevJobExecutionRole'), 'Arn'] },
        ],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
    expect(JSON.stringify(manager)).not.toContain('ec2:DescribeNetworkInterfaces');
  });

  test('the job task role starts with no permissions at all', () => {
    const jobRole = logicalId(template, 'AWS::IAM::Role', 'DevJobTaskRole');
    const attached = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes(jobRole),
    );
    expect(attached).toEqual([]);
    const role = template.toJSON().Resources[jobRole].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
    ]);
  });

  test('the runner token is readable by the manager’s execution role only', () => {
    const readers = statements.filter(({ statement }) =>
      asList(statement.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(readers.map((r) => r.policy)).toEqual([
      logicalId(template, 'AWS::IAM::Policy', 'DevManagerDefinitionExecutionRoleDefaultPolicy'),
    ]);
  });

  // gc reads each task's gitlab-fargate:deadline tag with DescribeTasks include TAGS: ecs:DescribeTasks is enough.
  test('the orphan reaper may only list, describe and stop the cluster’s tasks', () => {
    const reaperPolicy = logicalId(template, 'AWS::IAM::Policy', 'DevOrphanReaperTaskRoleDefaultPolicy');
    const actions = statements
      .filter((s) => s.policy === reaperPolicy)
      .flatMap((s) => asList(s.statement.Action))
      .sort();
    expect(actions).toEqual(['ecs:DescribeTasks', 'ecs:ListTasks', 'ecs:StopTask']);
  });
});

describe('IAM options', () => {
  test('connecting via public IPs adds exactly ec2:DescribeNetworkInterfaces to the manager', () => {
    const { stack, vpc } = newStack();
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), assignPublicIpToJobs: true, connectViaPublicIp: true });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    const managerPolicy = logicalId(template, 'AWS::IAM::Policy', 'DevManagerTaskRoleDefaultPolicy');
    const manager = iamStatements(template).filter((s) => s.policy === managerPolicy);
    expect(manager.map((s) => s.statement.Sid)).toEqual([
      'RunJobTasks',
      'WatchAndStopJobTasks',
      'ListJobTasks',
      'TagJobTasksAtLaunch',
      'PassJobRoles',
      'ReadJobTaskPublicIp',
    ]);
    expect(manager.at(-1)?.statement).toEqual({
      Sid: 'ReadJobTaskPublicIp',
      Effect: 'Allow',
      Action: 'ec2:DescribeNetworkInterfaces',
      Resource: '*',
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'ENABLE_PUBLIC_IP', Value: 'true' },
            { Name: 'USE_PUBLIC_IP', Value: 'true' },
          ]),
        }),
      ],
    });
  });

  test('grants to the environment land on that environment’s job role only', () => {
    const { stack, vpc } = newStack();
    const dev = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc, 'dev'));
    new RunnerEnvironment(stack, 'Prod', validProps(stack, vpc, 'production'));
    const bucket = new s3.Bucket(stack, 'Artifacts');
    bucket.grantRead(dev);
    const template = Template.fromStack(stack);
    const readers = iamStatements(template).filter(({ statement }) =>
      asList(statement.Action).includes('s3:GetObject*'),
    );
    expect(readers.map((r) => r.policy)).toEqual([logicalId(template, 'AWS::IAM::Policy', 'DevJobTaskRoleDefaultPolicy')]);
  });
});
