import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { beforeAll, describe, expect, test } from 'vitest';
import { JobCapacity, RunnerEnvironment } from '../src';
import { REAPER_FAILED_MARKER } from '../src/monitoring/metric-names';
import { logicalId, newStack, validProps } from './helpers';

/**
 * The workspace's config CLI, which the manager image runs at start. The cdk package cannot depend on it (jsii
 * packages depend on jsii packages only), so this contract test runs the built CLI; Nx builds it first (the cdk
 * package declares an implicit dependency on the config package).
 */
const CONFIG_CLI = path.resolve(__dirname, '../../config/dist/cli.js');

type Variable = { Name: string; Value: unknown };

/** Replaces CloudFormation references with the kind of value ECS hands the container at run time. */
function deployTimeValue(value: unknown, template: Template): string {
  if (typeof value === 'string') return value;
  const resources = template.toJSON().Resources as { [id: string]: { Type: string } };
  const object = value as { [key: string]: any };
  if ('Ref' in object) {
    if (object.Ref === 'AWS::Region') return 'eu-west-1';
    const type = resources[object.Ref]?.Type;
    if (type === 'AWS::EC2::Subnet') return `subnet-${createHash('sha256').update(object.Ref).digest('hex').slice(0, 17)}`;
    if (type === 'AWS::ECS::Cluster') return 'GitLabRunner-dev-Cluster-AbCdEf123456';
    if (type === 'AWS::S3::Bucket') return 'gitlab-fargate-dev-cache-1a2b3c4d5e6f';
    if (type === 'AWS::ECS::TaskDefinition') return 'arn:aws:ecs:eu-west-1:111111111111:task-definition/TestDevManagerDefinition:1';
  }
  if ('Fn::GetAtt' in object && object['Fn::GetAtt'][1] === 'GroupId') return 'sg-0123456789abcdef0';
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'];
    return parts.map((part: unknown) => deployTimeValue(part, template)).join(separator);
  }
  throw new Error(`no deploy-time stand-in for ${JSON.stringify(value)}`);
}

function containerEnvironment(template: Template, definitionFragment: string): { [name: string]: string } {
  const id = logicalId(template, 'AWS::ECS::TaskDefinition', definitionFragment);
  const [container] = template.toJSON().Resources[id].Properties.ContainerDefinitions;
  return Object.fromEntries(
    (container.Environment as Variable[]).map((variable) => [variable.Name, deployTimeValue(variable.Value, template)]),
  );
}

/**
 * What the manager's entrypoint renders from: its container's variables, and each key of the settings parameter's JSON
 * as a variable of the same name (the contract with the runner-manager image), with deploy-time values.
 */
function managerEnvironment(template: Template): { [name: string]: string } {
  const id = logicalId(template, 'AWS::SSM::Parameter', 'DevManagerSettings');
  const settings = JSON.parse(deployTimeValue(template.toJSON().Resources[id].Properties.Value, template)) as { [name: string]: unknown };
  for (const [name, value] of Object.entries(settings)) expect(typeof value, name).toBe('string');
  return { ...containerEnvironment(template, 'DevManagerDefinition'), ...(settings as { [name: string]: string }) };
}

function render(kind: 'driver' | 'runner', environment: { [name: string]: string }) {
  const result = spawnSync(process.execPath, [CONFIG_CLI, 'render', kind], {
    env: { PATH: process.env.PATH ?? '', ...environment },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the manager settings render with gitlab-fargate-config (packages/config built)', () => {
  let template: Template;

  beforeAll(() => {
    if (!fs.existsSync(CONFIG_CLI)) {
      throw new Error(`${CONFIG_CLI} is missing: build the config package first (npx nx run @gitlab-fargate/cdk:test does)`);
    }
    const { stack, vpc } = newStack();
    new RunnerEnvironment(stack, 'Dev', {
      ...validProps(stack, vpc),
      job: { ...validProps(stack, vpc, 'other').job, sshPort: 2222, architecture: ecs.CpuArchitecture.ARM64 },
      capacity: JobCapacity.spotWithOnDemandFallback({ onDemandBase: 1, spotWeight: 4 }),
      assignPublicIpToJobs: true,
      connectViaPublicIp: true,
      concurrent: 4,
      tags: { team: 'platform' },
    });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    template = Template.fromStack(stack);
  });

  test("the driver's TOML", () => {
    const { status, stdout, stderr } = render('driver', managerEnvironment(template));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('Cluster = "GitLabRunner-dev-Cluster-AbCdEf123456"');
    expect(stdout).toContain('Region = "eu-west-1"');
    expect(stdout).toMatch(/Subnets = \["subnet-[0-9a-f]{17}", "subnet-[0-9a-f]{17}"\]/);
    expect(stdout).toContain('SecurityGroups = ["sg-0123456789abcdef0"]');
    expect(stdout).toMatch(/TaskDefinition = "TestDevJobDefinition[0-9A-F]+"/);
    expect(stdout).toContain('EnablePublicIP = true');
    expect(stdout).toContain('UsePublicIP = true');
    expect(stdout).toContain('ContainerName = "ci-coordinator"');
    expect(stdout).toContain(
      'CapacityProviderStrategy = [{ CapacityProvider = "FARGATE", Weight = 1, Base = 1 }, ' +
        '{ CapacityProvider = "FARGATE_SPOT", Weight = 4, Base = 0 }]',
    );
    expect(stdout).toMatch(
      /\[Fargate\.Tags\]\n\s+team = "platform"\n\s+"gitlab-fargate:environment" = "dev"\n/,
    );
    // The driver sets gitlab-fargate:runner itself, and the config refuses it as a configured tag.
    expect(stdout).not.toContain('gitlab-fargate:runner');
    expect(stdout).toContain('Directory = "/opt/gitlab-runner/metadata"');
    expect(stdout).toMatch(/\[SSH\][^[]*Port = 2222/);
  });

  test("gitlab-runner's config.toml, with the token ECS injects at start", () => {
    const environment = {
      ...managerEnvironment(template),
      RUNNER_TOKEN: 'glrt-stand-in-for-the-ecs-secret',
    };
    const { status, stdout, stderr } = render('runner', environment);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('concurrent = 4');
    expect(stdout).toContain('name = "gitlab-fargate-dev"');
    expect(stdout).toContain('url = "https://gitlab.com"');
    expect(stdout).toMatch(/tags.*: dev\n/);
  });

  test("the orphan reaper's settings render the driver's TOML without any token", () => {
    const environment = containerEnvironment(template, 'DevOrphanReaperDefinition');
    expect(Object.keys(environment).some((name) => name === 'RUNNER_TOKEN' || name === 'GITLAB_URL')).toBe(false);
    const { status, stdout } = render('driver', environment);
    expect(status).toBe(0);
    expect(stdout).toMatch(/TaskDefinition = "TestDevJobDefinition[0-9A-F]+"/);
    // Without the token the runner's config cannot be rendered, which is why the reaper renders the driver's only.
    expect(render('runner', environment).status).not.toBe(0);
  });

  test("the orphan reaper's command reports a failed gc with the line the monitoring counts, and keeps its status", () => {
    const id = logicalId(template, 'AWS::ECS::TaskDefinition', 'DevOrphanReaperDefinition');
    const [reaper] = template.toJSON().Resources[id].Properties.ContainerDefinitions;
    // The image's two commands: the real config CLI, and a driver that is not there (sh: exit 127).
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'reaper-bin-'));
    const shim = `#!/bin/sh\nexec "${process.execPath}" "${CONFIG_CLI}" "$@"\n`;
    fs.writeFileSync(path.join(bin, 'gitlab-fargate-config'), shim, { mode: 0o755 });
    const settings = containerEnvironment(template, 'DevOrphanReaperDefinition');
    const result = spawnSync('/bin/sh', ['-c', reaper.Command[0]], {
      env: { ...settings, PATH: `${bin}:/usr/bin:/bin`, DRIVER_CONFIG_PATH: path.join(bin, 'driver.toml') },
      encoding: 'utf8',
    });
    fs.rmSync(bin, { recursive: true, force: true });
    expect(result.status).toBe(127);
    expect(result.stderr).toContain(`${REAPER_FAILED_MARKER} (exit 127)\n`);
  });
});

describe("the orphan reaper's gc flags are the driver's", () => {
  test('every flag the reaper passes to gc is one the driver parses, --without-state among them', () => {
    // jsii packages cannot depend on the driver: its argument parser is the one home of the flags.
    const parser = fs.readFileSync(path.resolve(__dirname, '../../driver/src/args.ts'), 'utf8');
    const { stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    const gcArguments = /gitlab-fargate-driver [^|&]* gc ([^|&]*)/.exec(environment.orphanReaper?.command ?? '')?.[1] ?? '';
    const flags = gcArguments.match(/--[a-z-]+/g) ?? [];
    expect(flags).toEqual(['--without-state', '--min-age']);
    // A key of the parser's table of option readers (`['--min-age', (read, value) => …]`).
    for (const flag of flags) expect(parser).toContain(`['${flag}', (read`);
  });
});
