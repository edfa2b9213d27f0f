import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, test } from 'vitest';
import { RunnerEnvironment } from '../src';
import { iamStatements, logicalId, managerSettingsParameter, newStack, validProps } from './helpers';

const CONFIG_CLI = path.resolve(__dirname, '../../config/dist/cli.js');

type Resource = { Type: string; Properties: { [key: string]: any } };

function taskDefinitions(template: Template): { [id: string]: Resource } {
  const resources = template.toJSON().Resources as { [id: string]: Resource };
  return Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ECS::TaskDefinition'));
}

/** The managers' settings: the settings parameter's JSON. */
function managerEnvironment(template: Template): { [name: string]: unknown } {
  return managerSettingsParameter(template, 'DevManagerSettings');
}

describe('RunnerEnvironment offering both architectures (job offerArm64)', () => {
  let template: Template;
  let environment: RunnerEnvironment;

  beforeAll(() => {
    const { stack, vpc } = newStack();
    const props = validProps(stack, vpc);
    environment = new RunnerEnvironment(stack, 'Dev', { ...props, job: { ...props.job, offerArm64: true, cpu: 2048, memoryMiB: 4096 } });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    template = Template.fromStack(stack);
  });

  test('adds an ARM64 job task definition of the same size, roles and container beside the X86_64 one', () => {
    const jobId = logicalId(template, 'AWS::ECS::TaskDefinition', 'DevJobDefinition');
    const armId = logicalId(template, 'AWS::ECS::TaskDefinition', 'DevJobArm64Definition');
    const definitions = taskDefinitions(template);
    const job = definitions[jobId]!.Properties;
    const arm = definitions[armId]!.Properties;
    expect(job.RuntimePlatform).toEqual({ CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
    expect(arm.RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    for (const key of ['Cpu', 'Memory', 'TaskRoleArn', 'ExecutionRoleArn', 'RequiresCompatibilities', 'NetworkMode']) {
      expect(arm[key], key).toEqual(job[key]);
    }
    expect(arm.Cpu).toBe('2048');
    const container = (properties: { [key: string]: any }) => {
      const { Image: _image, ...rest } = properties.ContainerDefinitions[0];
      return rest;
    };
    expect(container(arm)).toEqual(container(job));
    expect(container(arm).Name).toBe('ci-coordinator');
    expect(environment.job.taskDefinitions).toEqual([environment.job.taskDefinition, environment.job.arm64TaskDefinition]);
  });

  test("lets the manager run either family, and nothing else's", () => {
    const managerPolicy = logicalId(template, 'AWS::IAM::Policy', 'DevManagerTaskRoleDefaultPolicy');
    const runTask = iamStatements(template).find((s) => s.policy === managerPolicy && s.statement.Sid === 'RunJobTasks')!;
    const families = (runTask.statement.Resource as Array<{ 'Fn::Join': [string, unknown[]] }>).map((r) => String(r['Fn::Join'][1].at(-1)));
    expect(families).toEqual([
      `:task-definition/${environment.job.taskDefinition.family}:*`,
      `:task-definition/${environment.job.arm64TaskDefinition!.family}:*`,
    ]);
  });

  test("tells the manager's driver the ARM64 family and allows jobs to choose either architecture", () => {
    const settings = managerEnvironment(template);
    expect(settings.ARM64_TASK_DEFINITION).toBe(environment.job.arm64TaskDefinition!.family);
    expect(settings.ALLOWED_CPU_ARCHITECTURES).toBe('X86_64,ARM64');
  });

  test('renders a driver TOML with Arm64TaskDefinition and CpuArchitectures (packages/config built)', () => {
    if (!fs.existsSync(CONFIG_CLI)) throw new Error(`${CONFIG_CLI} is missing: build the config package first`);
    const settings = managerEnvironment(template);
    const environmentVariables = {
      PATH: process.env.PATH ?? '',
      CLUSTER: 'ci',
      SUBNETS: 'subnet-0123456789abcdef0',
      TASK_DEFINITION: String(settings.TASK_DEFINITION),
      ARM64_TASK_DEFINITION: String(settings.ARM64_TASK_DEFINITION),
      ALLOWED_CPU_ARCHITECTURES: String(settings.ALLOWED_CPU_ARCHITECTURES),
    };
    const result = spawnSync(process.execPath, [CONFIG_CLI, 'render', 'driver'], { env: environmentVariables, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Arm64TaskDefinition = "${environment.job.arm64TaskDefinition!.family}"`);
    expect(result.stdout).toContain('CpuArchitectures = ["X86_64", "ARM64"]');
  });
});

test('cdk-nag finds nothing unacknowledged in an environment offering ARM64 (RunTask on its family is by design)', () => {
  const { app, stack, vpc } = newStack();
  const props = validProps(stack, vpc);
  new RunnerEnvironment(stack, 'Dev', { ...props, job: { ...props.job, offerArm64: true } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});

describe('RunnerEnvironment with one architecture (the default)', () => {
  test('has one job task definition and tells the driver nothing about ARM64', () => {
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    const template = Template.fromStack(stack);
    expect(environment.job.arm64TaskDefinition).toBeUndefined();
    const settings = managerEnvironment(template);
    expect(settings).not.toHaveProperty('ARM64_TASK_DEFINITION');
    expect(settings).not.toHaveProperty('ALLOWED_CPU_ARCHITECTURES');
    const jobDefinitions = Object.keys(taskDefinitions(template)).filter((id) => id.includes('DevJob'));
    expect(jobDefinitions).toHaveLength(1);
  });

  test('refuses offerArm64 on an ARM64 job task at synth', () => {
    const { stack, vpc } = newStack();
    const props = validProps(stack, vpc);
    new RunnerEnvironment(stack, 'Dev', { ...props, job: { ...props.job, architecture: ecs.CpuArchitecture.ARM64, offerArm64: true } });
    Annotations.fromStack(stack).hasError(
      '/Test/Dev/Job',
      'job offerArm64 adds an ARM64 task definition beside an X86_64 one: leave architecture at X86_64.',
    );
  });
});
