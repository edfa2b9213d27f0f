import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { RunnerEnvironment } from '../src';
import { iamStatements, logicalId, managerSettingsParameter, newStack, validProps } from './helpers';

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
      {
        // Its settings parameter, and no other.
        Sid: 'ReadManagerSettings',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/gitlab-fargate/Test/dev/manager-settings']],
        },
      },
      // The distributed cache's objects (test/cache.test.ts).
      {
        Sid: 'ReadWriteCache',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(template, 'AWS::S3::Bucket', 'DevCache'), 'Arn'] }, '/*']] },
      },
      {
        Sid: 'FindCacheKeys',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::S3::Bucket', 'DevCache'), 'Arn'] },
      },
    ]);
    expect(JSON.stringify(manager)).not.toContain('ec2:DescribeNetworkInterfaces');
  });

  test('the manager controller may only run the manager family, watch, tag (at launch or the drain tag) and stop the cluster\'s tasks, pass the manager\'s two roles, and write its own log group', () => {
    const controllerPolicy = logicalId(template, 'AWS::IAM::Policy', 'DevManagerControllerRoleDefaultPolicy');
    const clusterId = logicalId(template, 'AWS::ECS::Cluster', 'Dev');
    const managerFamily = template.toJSON().Resources[logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition')]
      .Properties.Family;
    const account = ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }];
    const clusterTasks = { 'Fn::Join': ['', [...account, ':task/', { Ref: clusterId }, '/*']] };
    const onThisCluster = { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } };
    expect(statements.filter((s) => s.policy === controllerPolicy).map((s) => s.statement)).toEqual([
      {
        Sid: 'RunManagers',
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: { 'Fn::Join': ['', [...account, `:task-definition/${managerFamily}:*`]] },
        Condition: onThisCluster,
      },
      { Sid: 'WatchAndStopTasks', Effect: 'Allow', Action: ['ecs:DescribeTasks', 'ecs:StopTask'], Resource: clusterTasks },
      { Sid: 'ListTasks', Effect: 'Allow', Action: 'ecs:ListTasks', Resource: '*', Condition: onThisCluster },
      {
        Sid: 'TagManagersAtLaunch',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: clusterTasks,
        Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      },
      {
        Sid: 'MarkDrainingManagers',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: clusterTasks,
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['gitlab-fargate:drain-started'] } },
      },
      {
        Sid: 'PassManagerRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevManagerTaskRole'), 'Arn'] },
          { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevManagerDefinitionExecutionRole'), 'Arn'] },
        ],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::Logs::LogGroup', 'DevManagerControllerLogs'), 'Arn'] },
      },
    ]);
    // The function's role is the only role with that policy, Lambda's alone may assume it, and no managed policy
    // (AWSLambdaBasicExecutionRole would let it create log groups and write any of them).
    const role = template.toJSON().Resources[logicalId(template, 'AWS::IAM::Role', 'DevManagerControllerRole')].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    // Only the manager's task role and execution role are passed: not the job's, not the controller's own.
    expect(JSON.stringify(statements.filter((s) => s.policy === controllerPolicy))).not.toContain('DevJob');
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
      'ReadManagerSettings',
      'ReadWriteCache',
      'FindCacheKeys',
    ]);
    expect(manager.at(-4)?.statement).toEqual({
      Sid: 'ReadJobTaskPublicIp',
      Effect: 'Allow',
      Action: 'ec2:DescribeNetworkInterfaces',
      Resource: '*',
    });
    expect(managerSettingsParameter(template, 'DevManagerSettings')).toMatchObject({ ENABLE_PUBLIC_IP: 'true', USE_PUBLIC_IP: 'true' });
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
