import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, test } from 'vitest';
import { JobImages, JobImagesOptions, RunnerEnvironment, TaskImage } from '../src';
import { iamStatements, JOB_IMAGE_DIR, logicalId, managerSettingsParameter, newStack, validProps } from './helpers';
import { START_ONLY_SETTINGS } from '../src/manager/manager-settings';

const CONFIG_CLI = path.resolve(__dirname, '../../config/dist/cli.js');
const REGISTRY_SECRET = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:gitlab/registry-AbCdEf';

/** One environment, with `images` on its job task when given. */
function synth(images?: (stack: Stack) => JobImagesOptions, configure: (app: App) => void = () => {}) {
  const { app, stack, vpc } = newStack();
  configure(app);
  const props = validProps(stack, vpc);
  const environment = new RunnerEnvironment(stack, 'Dev', { ...props, job: { ...props.job, ...(images ? { images: images(stack) } : {}) } });
  return { app, stack, environment };
}

function fullImages(stack: Stack): JobImagesOptions {
  return {
    agentImage: TaskImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'AgentRepo', 'gitlab-fargate/job-agent'), '1.0.0'),
    allowedImages: ['ruby:*', 'registry.example.com/**'],
    allowedServices: ['postgres:*'],
    registryCredentials: [
      { registry: 'registry.example.com', secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'RegistrySecret', REGISTRY_SECRET) },
    ],
    unusedFamilyTtl: Duration.days(3),
  };
}

function statementsOf(template: Template, policyFragment: string) {
  return iamStatements(template).filter(({ policy }) => policy.includes(policyFragment)).map(({ statement }) => statement);
}

function bySid(template: Template, policyFragment: string, sid: string): { [key: string]: any } {
  const found = statementsOf(template, policyFragment).filter((statement) => statement.Sid === sid);
  expect(found, sid).toHaveLength(1);
  return found[0] as { [key: string]: any };
}

/** `arn:${Partition}:ecs:${Region}:${AccountId}:task-definition/<name>` as formatArn writes it. */
function taskDefinitionArn(name: string) {
  return {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:task-definition/${name}`]],
  };
}

describe('job images: the manager', () => {
  const { environment, stack } = synth(fullImages);
  const template = Template.fromStack(stack);
  const prefix = environment.job.images!.familyPrefix;
  const derived = taskDefinitionArn(`${prefix}-*:*`);

  test("the prefix is the job family + -job, the config's default written out", () => {
    expect(prefix).toBe(`${environment.job.taskDefinition.family}-job`);
  });

  test('describes task definitions on * (no resource-level permissions), and nothing else in that statement', () => {
    expect(bySid(template, 'DevManagerTaskRole', 'DescribeJobTaskDefinitions')).toEqual({
      Sid: 'DescribeJobTaskDefinitions', Effect: 'Allow', Action: 'ecs:DescribeTaskDefinition', Resource: '*',
    });
  });

  test("registers task definitions only into the derived families, only with the driver's tags", () => {
    expect(bySid(template, 'DevManagerTaskRole', 'RegisterJobTaskDefinitions')).toEqual({
      Sid: 'RegisterJobTaskDefinitions',
      Effect: 'Allow',
      Action: 'ecs:RegisterTaskDefinition',
      Resource: derived,
      Condition: {
        StringEquals: { 'aws:RequestTag/gitlab-fargate:managed': 'true' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['gitlab-fargate:managed', 'gitlab-fargate:hash', 'gitlab-fargate:image'] },
      },
    });
  });

  test("tags only the derived families, with the driver's keys", () => {
    expect(bySid(template, 'DevManagerTaskRole', 'TagJobTaskDefinitions')).toEqual({
      Sid: 'TagJobTaskDefinitions',
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: derived,
      Condition: {
        'ForAllValues:StringEquals': {
          'aws:TagKeys': ['gitlab-fargate:managed', 'gitlab-fargate:hash', 'gitlab-fargate:image', 'gitlab-fargate:last-used'],
        },
      },
    });
  });

  test('runs the derived families in this cluster only', () => {
    const runTask = bySid(template, 'DevManagerTaskRole', 'RunJobTasks');
    expect(runTask.Resource).toEqual([taskDefinitionArn(`${environment.job.taskDefinition.family}:*`), derived]);
    expect(runTask.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalId(template, 'AWS::ECS::Cluster', 'DevCluster'), 'Arn'] } } });
  });

  test('passes exactly the job task role and the job execution role, to ECS tasks only', () => {
    const passRole = statementsOf(template, 'DevManagerTaskRole').filter((statement) => JSON.stringify(statement.Action).includes('iam:PassRole'));
    expect(passRole).toEqual([{
      Sid: 'PassJobRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [
        { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevJobTaskRole'), 'Arn'] },
        { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'DevJobExecutionRole'), 'Arn'] },
      ],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }]);
  });

  test('the manager may not list, deregister or delete task definitions: gc runs in the orphan reaper', () => {
    const actions = statementsOf(template, 'DevManagerTaskRole').flatMap((statement) => [statement.Action].flat());
    for (const action of ['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition', 'ecs:DeleteTaskDefinitions']) {
      expect(actions).not.toContain(action);
    }
  });

  test("the orphan reaper's gc may list, describe, deregister, and delete the derived families only", () => {
    const reaper = statementsOf(template, 'DevOrphanReaperTaskRole');
    expect(reaper.filter((statement) => String(statement.Sid).includes('JobTaskDefinitions'))).toEqual([
      { Sid: 'FindUnusedJobTaskDefinitions', Effect: 'Allow', Action: ['ecs:ListTaskDefinitions', 'ecs:DescribeTaskDefinition'], Resource: '*' },
      { Sid: 'DeregisterUnusedJobTaskDefinitions', Effect: 'Allow', Action: 'ecs:DeregisterTaskDefinition', Resource: '*' },
      { Sid: 'DeleteUnusedJobTaskDefinitions', Effect: 'Allow', Action: 'ecs:DeleteTaskDefinitions', Resource: derived },
    ]);
  });
});

describe('job images: the job execution role and network', () => {
  const { stack } = synth(fullImages);
  const template = Template.fromStack(stack);
  const execution = () => statementsOf(template, 'DevJobExecutionRole');

  test('reads exactly the registry-credential secrets', () => {
    const reads = execution().filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:'));
    expect(reads).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: REGISTRY_SECRET }]);
  });

  test('pulls the agent image from its repository', () => {
    const pulls = execution().filter((statement) => JSON.stringify(statement.Action).includes('ecr:BatchGetImage'));
    expect(pulls.filter((statement) => JSON.stringify(statement.Resource).includes(':repository/gitlab-fargate/job-agent'))).toHaveLength(1);
  });

  test('the job security group admits TCP 2222 from the manager security group only', () => {
    const jobGroup = logicalId(template, 'AWS::EC2::SecurityGroup', 'DevJobSecurityGroup');
    const managerGroup = logicalId(template, 'AWS::EC2::SecurityGroup', 'DevManagerSecurityGroup');
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .map((resource) => resource.Properties)
      .filter((properties) => JSON.stringify(properties.GroupId).includes(jobGroup) && properties.FromPort === JobImages.AGENT_PORT);
    expect(ingress).toEqual([{
      IpProtocol: 'tcp',
      FromPort: 2222,
      ToPort: 2222,
      GroupId: { 'Fn::GetAtt': [jobGroup, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [managerGroup, 'GroupId'] },
      Description: 'SSH to the job agent from the runner manager',
    }]);
    const inline = template.toJSON().Resources[jobGroup].Properties.SecurityGroupIngress ?? [];
    expect(inline).toEqual([]);
  });

  test("the agent port is the config package's", async () => {
    const { JOB_AGENT_DEFAULT_SSH_PORT } = await import('@gitlab-fargate/config');
    expect(JobImages.AGENT_PORT).toBe(JOB_AGENT_DEFAULT_SSH_PORT);
  });
});

describe('job images: off by default', () => {
  /** The template's IAM policies, roles and security groups (rules included), which the option must leave alone. */
  function guarded(images?: (stack: Stack) => JobImagesOptions) {
    const template = Template.fromStack(synth(images).stack).toJSON().Resources as { [id: string]: { Type: string } };
    return Object.fromEntries(Object.entries(template).filter(([, resource]) => /^AWS::(IAM|EC2::SecurityGroup)/.test(resource.Type)));
  }

  test('without the option, IAM and the security groups are those of an environment without it', () => {
    const without = JSON.stringify(guarded());
    // No task-definition action, no agent port, no job-agent pull, no secret read by the job execution role.
    expect(without).not.toMatch(/ecs:[A-Za-z]*TaskDefinition|2222|job-agent/);
    const jobExecution = Object.entries(guarded()).filter(([id]) => id.startsWith('DevJobExecutionRoleDefaultPolicy'));
    expect(JSON.stringify(jobExecution)).not.toContain('secretsmanager:');
    // The same check on the option's template finds each of them: the check can fail.
    expect(JSON.stringify(guarded(fullImages))).toMatch(/ecs:[A-Za-z]*TaskDefinition/);
    expect(JSON.stringify(guarded(fullImages))).toMatch(/2222/);
  });

  test('without the option, the settings parameter carries no [JobImages] key', () => {
    const { stack } = synth();
    const settings = managerSettingsParameter(Template.fromStack(stack), 'DevManagerSettings');
    expect(Object.keys(settings).filter((name) => /JOB_|ALLOWED_IMAGES|ALLOWED_SERVICES|REGISTRY_CREDENTIALS|FAMILY|SERVICE_WAIT/.test(name))).toEqual([]);
  });
});

describe('job images: the settings render into [JobImages] with the real config CLI', () => {
  test("the driver's TOML (config package built)", () => {
    if (!fs.existsSync(CONFIG_CLI)) throw new Error(`${CONFIG_CLI} is missing: build the config package first`);
    const { environment, stack } = synth((scope) => ({
      ...fullImages(scope),
      agentImage: TaskImage.fromRegistry('registry.example.com/gitlab-fargate/job-agent:1.0.0'),
    }));
    const settings = managerSettingsParameter(Template.fromStack(stack), 'DevManagerSettings');
    const jobImageKeys = Object.fromEntries(Object.entries(environment.job.images!.settings));
    for (const [name, value] of Object.entries(jobImageKeys)) {
      // A start-only setting (the agent image) is in the manager's task definition, never in the parameter.
      expect(settings[name], name).toBe(START_ONLY_SETTINGS.includes(name) ? undefined : value);
    }
    const result = spawnSync(process.execPath, [CONFIG_CLI, 'render', 'driver'], {
      env: {
        PATH: process.env.PATH ?? '',
        CLUSTER: 'c', SUBNETS: 'subnet-0123456789abcdef0', TASK_DEFINITION: environment.job.taskDefinition.family,
        ...jobImageKeys,
      },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const section = /\[JobImages\][\s\S]*/.exec(result.stdout)?.[0] ?? '';
    expect(section).toMatch(/Enabled = true/);
    expect(section).toContain('AllowedImages = ["ruby:*", "registry.example.com/**"]');
    expect(section).toContain('AllowedServices = ["postgres:*"]');
    expect(section).toContain('AgentImage = "registry.example.com/gitlab-fargate/job-agent:1.0.0"');
    expect(section).toContain(`FamilyPrefix = "${environment.job.images!.familyPrefix}"`);
    expect(section).toMatch(/UnusedFamilyTTL = 259200/);
    expect(section).toMatch(/Registry = "registry.example.com"/);
    expect(section).toContain(`SecretArn = "${REGISTRY_SECRET}"`);
  });

  test('every [JobImages] key is one the runner-manager image reloads, but the agent image, which only a new version changes', () => {
    const variables = fs.readFileSync(path.resolve(__dirname, '../../images/src/manager/variables.ts'), 'utf8');
    const reloadable = /RELOADABLE_SETTING_VARIABLES[^=]*=\s*\[([\s\S]*?)\];/.exec(variables)?.[1] ?? '';
    const { environment } = synth(fullImages);
    for (const name of Object.keys(environment.job.images!.settings).filter((key) => !START_ONLY_SETTINGS.includes(key))) {
      expect(reloadable, name).toContain(`'${name}'`);
    }
    // It runs as root in every image job: whoever may write the settings parameter must not be able to swap it.
    expect(START_ONLY_SETTINGS).toContain('JOB_AGENT_IMAGE');
    expect(reloadable).not.toContain("'JOB_AGENT_IMAGE'");
    expect(Object.keys(environment.job.images!.settings).sort()).toEqual(
      ['ALLOWED_IMAGES', 'ALLOWED_SERVICES', 'JOB_AGENT_IMAGE', 'JOB_FAMILY_PREFIX', 'JOB_IMAGES', 'REGISTRY_CREDENTIALS', 'SERVICE_WAIT_TIMEOUT', 'UNUSED_FAMILY_TTL'],
    );
  });
});

describe("job images with offerArm64: the ARM64 jobs' agent", () => {
  const arm64Repository = 'gitlab-fargate/job-agent-arm64';
  /** One environment offering ARM64, with `images` on its job task. */
  function synthArm64(images: (stack: Stack) => JobImagesOptions, offerArm64 = true, configure: (app: App) => void = () => {}) {
    const { app, stack, vpc } = newStack();
    configure(app);
    const props = validProps(stack, vpc);
    const environment = new RunnerEnvironment(stack, 'Dev', { ...props, job: { ...props.job, offerArm64, images: images(stack) } });
    return { app, stack, environment, template: Template.fromStack(stack) };
  }
  const ownAgent = (stack: Stack): JobImagesOptions => ({
    ...fullImages(stack),
    arm64AgentImage: TaskImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Arm64AgentRepo', arm64Repository), '1.0.0'),
  });
  /** The manager container's environment, as the task definition has it. */
  function managerContainerEnvironment(template: Template): { [name: string]: unknown } {
    const definition = template.toJSON().Resources[logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition')];
    const container = definition.Properties.ContainerDefinitions.find((entry: { Name: string }) => entry.Name === 'runner-manager');
    return Object.fromEntries(container.Environment.map((entry: { Name: string; Value: unknown }) => [entry.Name, entry.Value]));
  }

  test('the managers get arm64AgentImage as ARM64_JOB_AGENT_IMAGE in their task definition, never in the settings parameter', () => {
    const { environment, stack, template } = synthArm64(ownAgent);
    const images = environment.job.images!;
    expect(images.settings.ARM64_JOB_AGENT_IMAGE).toBe(images.arm64AgentImageName);
    expect(JSON.stringify(stack.resolve(images.arm64AgentImageName))).toContain(`/${arm64Repository}:1.0.0`);
    const container = managerContainerEnvironment(template);
    expect(container.ARM64_JOB_AGENT_IMAGE).toEqual(stack.resolve(images.arm64AgentImageName));
    expect(container.JOB_AGENT_IMAGE).toEqual(stack.resolve(images.agentImageName));
    const parameter = managerSettingsParameter(template, 'DevManagerSettings');
    expect(Object.keys(parameter)).not.toContain('ARM64_JOB_AGENT_IMAGE');
    expect(JSON.stringify(parameter)).not.toContain(arm64Repository);
    // The parameter does carry the other [JobImages] settings: the check above looks in the right place.
    expect(parameter.JOB_FAMILY_PREFIX).toBe(images.familyPrefix);
  });

  test('the job execution role pulls both agents, each from its repository', () => {
    const { template } = synthArm64(ownAgent);
    const pulls = statementsOf(template, 'DevJobExecutionRole').filter((statement) => JSON.stringify(statement.Action).includes('ecr:BatchGetImage'));
    const pulling = (repository: string) => pulls.filter((statement) => JSON.stringify(statement.Resource).includes(`:repository/${repository}"`));
    expect(pulling('gitlab-fargate/job-agent')).toHaveLength(1);
    expect(pulling(arm64Repository)).toHaveLength(1);
  });

  test('without arm64AgentImage, a registry agentImage serves both architectures (a multi-platform image)', () => {
    const { environment, template } = synthArm64((scope) => ({
      ...fullImages(scope),
      agentImage: TaskImage.fromRegistry('registry.example.com/gitlab-fargate/job-agent:1.0.0'),
    }));
    expect(environment.job.images!.settings.ARM64_JOB_AGENT_IMAGE).toBe('registry.example.com/gitlab-fargate/job-agent:1.0.0');
    expect(managerContainerEnvironment(template).ARM64_JOB_AGENT_IMAGE).toBe('registry.example.com/gitlab-fargate/job-agent:1.0.0');
  });

  test('without arm64AgentImage, an asset agentImage is built for linux/arm64 as well', () => {
    const { app, environment } = synthArm64((scope) => ({ ...fullImages(scope), agentImage: TaskImage.fromAsset(JOB_IMAGE_DIR) }));
    const images = environment.job.images!;
    expect(images.arm64AgentImageName).not.toEqual(images.agentImageName);
    const assembly = app.synth();
    const manifestFile = assembly.artifacts
      .find((artifact) => artifact instanceof cxapi.AssetManifestArtifact) as cxapi.AssetManifestArtifact;
    const dockerImages = JSON.parse(fs.readFileSync(manifestFile.file, 'utf8')).dockerImages as { [hash: string]: { source: { platform?: string } } };
    // The asset's hash is its image tag, which the image name ends with.
    const platformOf = (name: string | undefined) => {
      const resolved = JSON.stringify(Stack.of(environment).resolve(name));
      const hashes = Object.keys(dockerImages).filter((hash) => resolved.includes(hash));
      expect(hashes, resolved).toHaveLength(1);
      return dockerImages[hashes[0]!]!.source.platform;
    };
    expect(platformOf(images.agentImageName)).toBe('linux/amd64');
    expect(platformOf(images.arm64AgentImageName)).toBe('linux/arm64');
  });

  test('without offerArm64, no ARM64 agent is bound or set, and arm64AgentImage is a synth error', () => {
    const { environment, stack } = synthArm64(ownAgent, false);
    expect(environment.job.images!.arm64AgentImageName).toBeUndefined();
    expect(Object.keys(environment.job.images!.settings)).not.toContain('ARM64_JOB_AGENT_IMAGE');
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((entry) => String(entry.entry.data));
    expect(errors).toEqual([expect.stringContaining('job images arm64AgentImage is the agent of the ARM64 task definition that offerArm64 adds')]);
    expect(Annotations.fromStack(synthArm64(ownAgent).stack).findError('*', Match.anyValue())).toEqual([]);
  });

  test("renders into [JobImages] Arm64AgentImage with the real config CLI, and the image's start-only list names it", () => {
    if (!fs.existsSync(CONFIG_CLI)) throw new Error(`${CONFIG_CLI} is missing: build the config package first`);
    const { environment } = synthArm64((scope) => ({
      ...fullImages(scope),
      agentImage: TaskImage.fromRegistry('registry.example.com/gitlab-fargate/job-agent:1.0.0'),
      arm64AgentImage: TaskImage.fromRegistry('registry.example.com/gitlab-fargate/job-agent:1.0.0-arm64'),
    }));
    const result = spawnSync(process.execPath, [CONFIG_CLI, 'render', 'driver'], {
      env: { PATH: process.env.PATH ?? '', CLUSTER: 'c', SUBNETS: 'subnet-0123456789abcdef0', TASK_DEFINITION: 'f', ...environment.job.images!.settings },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Arm64AgentImage = "registry.example.com/gitlab-fargate/job-agent:1.0.0-arm64"');
    // The runner-manager image refuses a parameter naming a start-only variable: it must know every one the construct keeps out.
    const variables = fs.readFileSync(path.resolve(__dirname, '../../images/src/manager/variables.ts'), 'utf8');
    const startOnly = /START_ONLY_VARIABLES[^=]*=\s*\{([\s\S]*?)\n\};/.exec(variables)?.[1] ?? '';
    for (const name of START_ONLY_SETTINGS) expect(startOnly, name).toMatch(new RegExp(`^\\s*${name}:`, 'm'));
  });

  test('an environment offering ARM64 with both agents has no unacknowledged AwsSolutions finding', () => {
    const { app } = synthArm64(ownAgent, true, (target) => Validations.of(target).addPlugins(new AwsSolutionsChecks(target)));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('job images: validation and cdk-nag', () => {
  test('a bad TTL, wait, empty pattern or repeated registry is a synth error each', () => {
    const { stack } = synth((scope) => ({
      ...fullImages(scope),
      unusedFamilyTtl: Duration.minutes(5),
      serviceWaitTimeout: Duration.hours(2),
      allowedImages: [''],
      registryCredentials: ['A', 'B'].map((id) => ({
        registry: 'registry.example.com',
        secret: secretsmanager.Secret.fromSecretCompleteArn(scope, `Registry${id}`, REGISTRY_SECRET),
      })),
    }));
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((entry) => String(entry.entry.data));
    expect(errors.some((error) => error.includes('unusedFamilyTtl 300 s'))).toBe(true);
    expect(errors.some((error) => error.includes('serviceWaitTimeout 7200 s'))).toBe(true);
    expect(errors.some((error) => error.includes('empty allowedImages/allowedServices pattern'))).toBe(true);
    expect(errors.some((error) => error.includes('registry registry.example.com is given twice'))).toBe(true);
  });

  test('an environment with job images has no unacknowledged AwsSolutions finding', () => {
    const { app } = synth(fullImages, (target) => Validations.of(target).addPlugins(new AwsSolutionsChecks(target)));
    expect(() => app.synth()).not.toThrow();
  });
});
