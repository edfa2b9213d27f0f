import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, test } from 'vitest';
import { JobCapacity, RunnerEnvironment } from '../src';
import { logicalId, managerSettingsParameter, newStack, validProps } from './helpers';

describe('RunnerEnvironment with defaults', () => {
  let template: Template;
  let environment: RunnerEnvironment;

  beforeAll(() => {
    const { stack, vpc } = newStack();
    environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    template = Template.fromStack(stack);
  });

  test('the cluster has FARGATE and FARGATE_SPOT and an on-demand default strategy', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      DefaultCapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }],
    });
  });

  test('the job task definition runs ci-coordinator with the SSH port, logs and the default size', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      TaskRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DevJobTaskRole'), 'Arn'] },
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DevJobExecutionRole'), 'Arn'] },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'ci-coordinator',
          PortMappings: [{ ContainerPort: 22, Protocol: 'tcp' }],
          LogConfiguration: Match.objectLike({
            LogDriver: 'awslogs',
            Options: Match.objectLike({ 'awslogs-group': { Ref: Match.stringLikeRegexp('DevJobLogs') } }),
          }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('job tasks accept SSH from the manager security group only', () => {
    const jobGroup = logicalId(template, 'AWS::EC2::SecurityGroup', 'DevJobSecurityGroup');
    const managerGroup = logicalId(template, 'AWS::EC2::SecurityGroup', 'DevManagerSecurityGroup');
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress');
    const intoJobs = Object.values(ingress).filter(
      (rule) => JSON.stringify(rule.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [jobGroup, 'GroupId'] }),
    );
    expect(intoJobs).toHaveLength(1);
    expect(intoJobs[0]?.Properties).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      SourceSecurityGroupId: { 'Fn::GetAtt': [managerGroup, 'GroupId'] },
    });
    // No CIDR-based ingress on the job group at all.
    const jobSg = template.toJSON().Resources[jobGroup];
    expect(jobSg.Properties.SecurityGroupIngress).toBeUndefined();
    // The manager's only ways out: HTTPS (GitLab and AWS APIs) and SSH to the job tasks.
    const managerSg = template.toJSON().Resources[managerGroup];
    expect(managerSg.Properties.SecurityGroupEgress).toEqual([
      {
        CidrIp: '0.0.0.0/0',
        Description: 'GitLab, ECS, ECR and CloudWatch APIs',
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [managerGroup, 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [jobGroup, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
    });
  });

  test('no ECS service: the controller keeps 2 managers running, one in each zone\'s manager subnet, on on-demand Fargate', () => {
    template.resourceCountIs('AWS::ECS::Service', 0);
    const controller = logicalId(template, 'AWS::Lambda::Function', 'DevManagerControllerFunction');
    const variables = template.toJSON().Resources[controller].Properties.Environment.Variables;
    expect(variables).toEqual({
      CLUSTER: { Ref: logicalId(template, 'AWS::ECS::Cluster', 'Dev') },
      MANAGER_TASK_DEFINITION: { Ref: logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition') },
      MANAGER_CONTAINER_NAME: 'runner-manager',
      MANAGER_COUNT: '2',
      // One private subnet per availability zone (the fixture VPC has two zones).
      MANAGER_SUBNETS: { 'Fn::Join': [',', [{ Ref: expect.stringMatching(/^VpcprivateSubnet1/) }, { Ref: expect.stringMatching(/^VpcprivateSubnet2/) }]] },
      MANAGER_SECURITY_GROUP_IDS: { 'Fn::GetAtt': [logicalId(template, 'AWS::EC2::SecurityGroup', 'DevManagerSecurityGroup'), 'GroupId'] },
      MANAGER_ASSIGN_PUBLIC_IP: 'false',
      // 3 h of jobs + 10 min of cleanup
      MANAGER_DRAIN_TIMEOUT_SECONDS: '11400',
    });
    const subnets = template.findResources('AWS::EC2::Subnet');
    const zones = (variables.MANAGER_SUBNETS as { 'Fn::Join': [string, Array<{ Ref: string }>] })['Fn::Join'][1].map(
      ({ Ref }) => JSON.stringify(subnets[Ref]?.Properties.AvailabilityZone),
    );
    expect(new Set(zones).size).toBe(2);
    const rule = logicalId(template, 'AWS::Events::Rule', 'DevManagerControllerSchedule');
    template.hasResource('AWS::Events::Rule', {
      Properties: Match.objectLike({
        ScheduleExpression: 'rate(1 minute)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [controller, 'Arn'] } })],
      }),
      // Managers go on the FARGATE capacity provider, which must be associated first.
      DependsOn: Match.arrayWith([logicalId(template, 'AWS::ECS::ClusterCapacityProviderAssociations', 'Dev')]),
    });
    // The managers learn of a new version only after the controller has.
    template.hasResource('AWS::SSM::Parameter', { DependsOn: Match.arrayWith([rule]) });
  });

  test('the manager container gets only the settings parameter\'s name, its region and identity, and the token as an ECS secret', () => {
    const managerDefinition = logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition');
    const [container] = template.toJSON().Resources[managerDefinition].Properties.ContainerDefinitions;
    expect(container.Environment).toEqual([
      { Name: 'GITLAB_FARGATE_SETTINGS_PARAMETER', Value: '/gitlab-fargate/Test/dev/manager-settings' },
      // Read only at start: the runner token goes there, so a parameter write must not change it.
      { Name: 'GITLAB_URL', Value: 'https://gitlab.com' },
      // Read only at start (running jobs find their state files there): a change is a new version.
      { Name: 'METADATA_DIR', Value: '/opt/gitlab-runner/metadata' },
      { Name: 'AWS_REGION', Value: { Ref: 'AWS::Region' } },
      // The driver's trusted runner identity: the orphan reaper's short token, so that both go by the same startedBy.
      { Name: 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN', Value: 'devXy9Ab1' },
    ]);
    expect(container.StopTimeout).toBe(120);
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/gitlab-fargate/Test/dev/manager-settings', Type: 'String' });
    const settings = managerSettingsParameter(template, 'DevManagerSettings');
    expect(Object.keys(settings).sort()).toEqual(
      [
        'RUNNER_NAME',
        'CONCURRENT',
        'CLUSTER',
        'REGION',
        'SUBNETS',
        'SECURITY_GROUP_IDS',
        'TASK_DEFINITION',
        'TASK_CONTAINER_NAME',
        'RUNNER_TAGS',
        'SSH_PORT',
        'ENABLE_PUBLIC_IP',
        'USE_PUBLIC_IP',
        'CAPACITY_PROVIDER_STRATEGY',
        'TASK_TAGS',
        // The distributed cache (test/cache.test.ts).
        'CACHE_S3_BUCKET',
        'CACHE_S3_REGION',
        'GITLAB_FARGATE_MANAGER_VERSION',
      ].sort(),
    );
    // The version is the manager task definition's ARN with its revision: each new revision replaces the managers.
    expect(settings.GITLAB_FARGATE_MANAGER_VERSION).toEqual({ Ref: managerDefinition });
    const value = (name: string) => settings[name];
    expect(value('GITLAB_URL')).toBeUndefined(); // in the task definition: see above
    expect(value('RUNNER_NAME')).toBe('gitlab-fargate-dev');
    expect(value('RUNNER_TAGS')).toBe('dev');
    expect(value('TASK_CONTAINER_NAME')).toBe('ci-coordinator');
    expect(value('SSH_PORT')).toBe('22');
    expect(value('CONCURRENT')).toBe('10');
    expect(value('CLUSTER')).toEqual({ Ref: logicalId(template, 'AWS::ECS::Cluster', 'Dev') });
    expect(value('REGION')).toEqual({ Ref: 'AWS::Region' });
    // The private subnets, comma-separated.
    expect(JSON.stringify(value('SUBNETS'))).toMatch(
      /^\{"Fn::Join":\[",",\[\{"Ref":"VpcprivateSubnet1[^"]*"\},\{"Ref":"VpcprivateSubnet2[^"]*"\}\]\]\}$/,
    );
    expect(value('SECURITY_GROUP_IDS')).toEqual({
      'Fn::GetAtt': [logicalId(template, 'AWS::EC2::SecurityGroup', 'DevJobSecurityGroup'), 'GroupId'],
    });
    expect(value('TASK_DEFINITION')).toBe(environment.job.taskDefinition.family);
    expect(value('ENABLE_PUBLIC_IP')).toBe('false');
    expect(value('USE_PUBLIC_IP')).toBe('false');
    expect(value('CAPACITY_PROVIDER_STRATEGY')).toBe('FARGATE:1:0');
    // Not gitlab-fargate:runner: the driver sets it on each task (to the short token) and refuses it in TASK_TAGS.
    expect(value('TASK_TAGS')).toBe('gitlab-fargate:environment=dev');
    expect(container.Secrets).toEqual([
      {
        Name: 'RUNNER_TOKEN',
        ValueFrom: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:gitlab/dev/runner'],
          ],
        },
      },
    ]);
  });

  test('gitlab-fargate-driver gc runs from the manager image on a schedule, without the token', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          EcsParameters: Match.objectLike({ LaunchType: 'FARGATE', TaskCount: 1 }),
        }),
      ],
    });
    const reaperDefinition = logicalId(template, 'AWS::ECS::TaskDefinition', 'DevOrphanReaperDefinition');
    const managerDefinition = logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition');
    const resources = template.toJSON().Resources;
    const [reaper] = resources[reaperDefinition].Properties.ContainerDefinitions;
    const [manager] = resources[managerDefinition].Properties.ContainerDefinitions;
    const settings = managerSettingsParameter(template, 'DevManagerSettings');
    expect(reaper.Image).toEqual(manager.Image);
    // Only the driver's TOML is rendered (no token needed), then gc, without the manager's state directory (not
    // its own in this task), spares anything younger than 3 h + 10 min; a failure is reported for the alarm.
    expect(reaper.EntryPoint).toEqual(['/usr/bin/tini', '-g', '--', '/bin/sh', '-c']);
    expect(reaper.Command).toEqual([
      'gitlab-fargate-config render driver --out "$DRIVER_CONFIG_PATH" && ' +
        'gitlab-fargate-driver --config "$DRIVER_CONFIG_PATH" gc --without-state --min-age 11400 || ' +
        '{ status=$?; echo "gitlab-fargate orphan reaper failed (exit $status)" >&2; exit $status; }',
    ]);
    expect(reaper.Secrets).toBeUndefined();
    const notTheReapers = [
      'GITLAB_URL', 'RUNNER_NAME', 'RUNNER_TAGS', 'CONCURRENT', 'CACHE_S3_BUCKET', 'CACHE_S3_REGION', 'METADATA_DIR',
      'GITLAB_FARGATE_MANAGER_VERSION',
    ];
    // The manager's driver settings and its runner identity, so gc finds the tasks the manager's driver started;
    // not its state directory, which in the reaper's task is an empty folder gc (as root) must not trust.
    expect(reaper.Environment).toEqual([
      ...Object.entries(settings).filter(([name]) => !notTheReapers.includes(name)).map(([Name, Value]) => ({ Name, Value })),
      manager.Environment.find((variable: { Name: string }) => variable.Name === 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN'),
    ]);
    expect(reaper.Environment.map((variable: { Name: string }) => variable.Name)).not.toContain('METADATA_DIR');
    expect(reaper.Environment).toContainEqual({ Name: 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN', Value: 'devXy9Ab1' });
    // Not the job's variable, which job variables can override.
    expect(JSON.stringify(reaper.Environment)).not.toContain('CUSTOM_ENV_');
  });

  test('every resource that takes tags is tagged with the environment', () => {
    for (const type of ['AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::IAM::Role', 'AWS::Events::Rule']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource.Properties.Tags).toEqual(
          expect.arrayContaining([{ Key: 'gitlab-fargate:environment', Value: 'dev' }]),
        );
      }
    }
  });

  test('the environment grants to its job role and connects through the job security group', () => {
    expect(environment.grantPrincipal).toBe(environment.job.taskRole);
    expect(environment.connections).toBe(environment.job.connections);
  });
});

describe('RunnerEnvironment with options', () => {
  test('ARM64, Spot with an on-demand base, sizes, SSH port and tags reach the template and the manager', () => {
    const { stack, vpc } = newStack();
    const base = validProps(stack, vpc, 'staging');
    new RunnerEnvironment(stack, 'Staging', {
      ...base,
      job: {
        ...base.job,
        cpu: 2048,
        memoryMiB: 8192,
        ephemeralStorageGiB: 50,
        architecture: ecs.CpuArchitecture.ARM64,
        sshPort: 2222,
        logRetention: logs.RetentionDays.ONE_WEEK,
      },
      capacity: JobCapacity.spotWithOnDemandFallback({ onDemandBase: 1, spotWeight: 4, onDemandWeight: 1 }),
      concurrent: 4,
      gitlabUrl: 'https://gitlab.example.com',
      tags: { team: 'platform' },
      orphanReaper: undefined,
    });
    const annotations = Annotations.fromStack(stack);
    annotations.hasNoError('*', Match.anyValue());
    annotations.hasWarning('/Test/Staging', Match.stringLikeRegexp('^No orphan reaper'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '2048',
      Memory: '8192',
      EphemeralStorage: { SizeInGiB: 50 },
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({ PortMappings: [{ ContainerPort: 2222, Protocol: 'tcp' }] })],
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      DefaultCapacityProviderStrategy: [
        { CapacityProvider: 'FARGATE', Weight: 1, Base: 1 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 4 },
      ],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 2222, ToPort: 2222 });
    expect(managerSettingsParameter(template, 'StagingManagerSettings')).toMatchObject({
      CONCURRENT: '4',
      SSH_PORT: '2222',
      CAPACITY_PROVIDER_STRATEGY: 'FARGATE:1:1,FARGATE_SPOT:4:0',
      TASK_TAGS: 'team=platform,gitlab-fargate:environment=staging',
    });
    // Only the manager controller's schedule: no reaper.
    template.resourceCountIs('AWS::Events::Rule', 1);
    // Without a reaper the manager gets no runner identity: its image derives one from the runner token.
    const manager = template.toJSON().Resources[logicalId(template, 'AWS::ECS::TaskDefinition', 'StagingManagerDefinition')];
    const names = manager.Properties.ContainerDefinitions[0].Environment.map((variable: { Name: string }) => variable.Name);
    expect(names).not.toContain('GITLAB_FARGATE_RUNNER_SHORT_TOKEN');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});
