import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, test } from 'vitest';
import { PoolOptions, RunnerEnvironment, RunnerEnvironmentProps } from '../src';
import { POOL_CLAIM_TAG_KEYS } from '../src/manager/pool-keeper';
import { iamStatements, logicalId, managerSettingsParameter, newStack, validProps } from './helpers';

const CONFIG_CLI = path.resolve(__dirname, '../../config/dist/cli.js');

/** The config package is ESM and this one CommonJS (jsii): loaded with import(), as the types allow. */
const configPackage = () => import('@gitlab-fargate/config');

/** The README's example: two idle tasks on weekdays 08:00-17:59 in Berlin, none otherwise. */
const BUSINESS_HOURS: PoolOptions = {
  name: 'business-hours',
  idleTime: Duration.minutes(30),
  policies: [{ periods: ['* 8-17 * * mon-fri'], timezone: 'Europe/Berlin', idleCount: 2 }],
};

function synth(change: (props: RunnerEnvironmentProps, vpc: ec2.Vpc) => RunnerEnvironmentProps = (props) => props) {
  const { stack, vpc } = newStack();
  const environment = new RunnerEnvironment(stack, 'Dev', change(validProps(stack, vpc), vpc));
  const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((message) => String(message.entry.data));
  return { environment, template: Template.fromStack(stack), errors };
}

const withPools = (pools: PoolOptions[]) => (props: RunnerEnvironmentProps): RunnerEnvironmentProps => ({
  ...props,
  manager: { ...props.manager, pools },
});

type Container = { Name: string; [key: string]: any };

function managerDefinition(template: Template): { ContainerDefinitions: Container[]; Volumes?: unknown[] } {
  return template.toJSON().Resources[logicalId(template, 'AWS::ECS::TaskDefinition', 'DevManagerDefinition')].Properties;
}

const container = (template: Template, name: string) => managerDefinition(template).ContainerDefinitions.find((c) => c.Name === name);
const environmentOf = (c: Container | undefined) =>
  Object.fromEntries((c?.Environment ?? []).map((v: { Name: string; Value: unknown }) => [v.Name, v.Value]));
const managerRoleStatements = (template: Template) => iamStatements(template).filter(({ policy }) => policy.includes('DevManagerTaskRole')).map(({ statement }) => statement);

describe('warm pools in the manager task', () => {
  test('are off by default: one container, no volume, no retag permission, no pool settings', () => {
    const { template, errors } = synth();
    expect(errors).toEqual([]);
    expect(managerDefinition(template).ContainerDefinitions.map((c) => c.Name)).toEqual(['runner-manager']);
    expect(managerDefinition(template).Volumes ?? []).toEqual([]);
    expect(managerRoleStatements(template).map((s) => s.Sid)).not.toContain('RetagClaimedPoolTasks');
    const settings = managerSettingsParameter(template, 'DevManagerSettings');
    expect(Object.keys(settings).filter((key) => key.startsWith('POOL'))).toEqual([]);
    expect(environmentOf(container(template, 'runner-manager'))).not.toHaveProperty('DRIVER_CONFIG_PATH');
  });

  test('add the keeper from the manager image, sharing one volume with the manager, neither essential nor fatal', () => {
    const { template, errors, environment } = synth(withPools([BUSINESS_HOURS]));
    expect(errors).toEqual([]);
    const definition = managerDefinition(template);
    expect(definition.ContainerDefinitions.map((c) => c.Name)).toEqual(['runner-manager', 'shared-volume', 'pool-keeper']);
    const manager = container(template, 'runner-manager')!;
    const keeper = container(template, 'pool-keeper')!;
    const volume = container(template, 'shared-volume')!;
    expect(keeper.Image).toEqual(manager.Image);
    expect(manager.Essential).toBe(true);
    expect(keeper.Essential).toBe(false);
    expect(volume.Essential).toBe(false);
    expect(keeper.User).toBe('gitlab-runner');
    expect(keeper.EntryPoint).toEqual(['/usr/bin/tini', '--', '/bin/sh', '-c']);
    expect(keeper.Command[0]).toMatch(/exec gitlab-fargate-driver pool keep --config \/var\/lib\/gitlab-fargate\/fargate\.toml$/);
    expect(keeper.Command[0]).toContain('GITLAB_FARGATE_MANAGER_ID=$(gitlab-fargate-manager manager-id)');
    // The drain (at most 90 s) fits in the stop timeout; a crashed keeper restarts in place.
    expect(keeper.StopTimeout).toBe(120);
    expect(keeper.RestartPolicy).toMatchObject({ Enabled: true, IgnoredExitCodes: [0] });
    expect(environmentOf(keeper)).toMatchObject({ GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'devXy9Ab1' });
    // One task volume, mounted at the same path in all three; the manager and keeper start once it is the runner's.
    expect(definition.Volumes).toEqual([{ Name: 'gitlab-fargate-shared' }]);
    const mount = [{ ContainerPath: '/var/lib/gitlab-fargate', ReadOnly: false, SourceVolume: 'gitlab-fargate-shared' }];
    for (const c of [manager, keeper, volume]) expect(c.MountPoints, c.Name).toEqual(mount);
    for (const c of [manager, keeper]) expect(c.DependsOn, c.Name).toEqual([{ Condition: 'SUCCESS', ContainerName: 'shared-volume' }]);
    expect(volume.Command).toEqual(['chown gitlab-runner: /var/lib/gitlab-fargate && chmod 0700 /var/lib/gitlab-fargate']);
    // Its own log group, not the manager's (whose lines the monitoring counts).
    expect(keeper.LogConfiguration.Options['awslogs-group']).not.toEqual(manager.LogConfiguration.Options['awslogs-group']);
    expect(environment.manager.poolKeeper?.containerName).toBe('pool-keeper');
  });

  test('render [[Pool]] from the settings parameter (reloadable) and [PoolSettings] from the task definition', async () => {
    const { template } = synth(withPools([BUSINESS_HOURS, { name: 'nights', idleCount: 1, maxIdle: 3, maxAge: Duration.hours(2) }]));
    const settings = managerSettingsParameter(template, 'DevManagerSettings');
    expect(JSON.parse(settings.POOLS as string)).toEqual([
      { Name: 'business-hours', IdleCount: 0, IdleTime: 1800, MaxIdle: 10, MaxAge: 14_400, Policy: [{ Periods: ['* 8-17 * * mon-fri'], Timezone: 'Europe/Berlin', IdleCount: 2 }] },
      { Name: 'nights', IdleCount: 1, IdleTime: 1200, MaxIdle: 3, MaxAge: 7200, Policy: [] },
    ]);
    expect(settings).not.toHaveProperty('POOL_DIRECTORY');
    // The runner-manager image refuses a parameter with a key it does not reload: POOLS must be one.
    const variables = fs.readFileSync(path.resolve(__dirname, '../../images/src/manager/variables.ts'), 'utf8');
    const reloadable = /RELOADABLE_SETTING_VARIABLES: readonly string\[\] = \[([\s\S]*?)\n\];/.exec(variables)?.[1] ?? '';
    expect(reloadable).toContain("'POOLS'");
    expect(variables).toMatch(/POOL_DIRECTORY: "/);
    expect(variables).toMatch(/POOL_METRICS_PORT: '/);
    expect(environmentOf(container(template, 'runner-manager'))).toMatchObject({
      DRIVER_CONFIG_PATH: '/var/lib/gitlab-fargate/fargate.toml',
      POOL_DIRECTORY: '/var/lib/gitlab-fargate/pool',
      POOL_METRICS_PORT: '9464',
    });
    if (!fs.existsSync(CONFIG_CLI)) throw new Error(`${CONFIG_CLI} is missing: build the config package first`);
    const rendered = spawnSync(process.execPath, [CONFIG_CLI, 'render', 'driver'], {
      env: { PATH: process.env.PATH ?? '', CLUSTER: 'ci', SUBNETS: 'subnet-0123456789abcdef0', TASK_DEFINITION: 'ci-job', POOLS: settings.POOLS as string, POOL_DIRECTORY: '/var/lib/gitlab-fargate/pool', POOL_METRICS_PORT: '9464' },
      encoding: 'utf8',
    });
    expect(rendered.stderr).toBe('');
    const { config } = (await configPackage()).parseDriverConfig(rendered.stdout);
    expect(config.pools.map((p) => [p.name, p.idleCount, p.idleTime, p.policies])).toEqual([
      ['business-hours', 0, 1800, [{ periods: ['* 8-17 * * mon-fri'], timezone: 'Europe/Berlin', idleCount: 2 }]],
      ['nights', 1, 1200, []],
    ]);
    expect(config.poolDefaults).toMatchObject({ directory: '/var/lib/gitlab-fargate/pool', metricsPort: 9464 });
  });

  test('let the manager retag a running task with the claim keys only, and tag nothing else after launch', () => {
    const { template } = synth(withPools([BUSINESS_HOURS]));
    const tagging = managerRoleStatements(template).filter((s) => [s.Action].flat().includes('ecs:TagResource'));
    expect(tagging.map((s) => s.Sid).sort()).toEqual(['RetagClaimedPoolTasks', 'TagJobTasksAtLaunch']);
    const retag = tagging.find((s) => s.Sid === 'RetagClaimedPoolTasks')!;
    expect(retag.Condition).toEqual({
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['gitlab-fargate:deadline', 'gitlab-fargate:pool-claimed', 'gitlab-fargate:job-id', 'gitlab-fargate:project'] },
      'Null': { 'aws:TagKeys': 'false' },
    });
    expect(JSON.stringify(retag.Resource)).toMatch(/:task\/".*\/\*"/);
    expect(tagging.find((s) => s.Sid === 'TagJobTasksAtLaunch')!.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RunTask' } });
  });

  test('use the claim tag keys of the config contract, which the driver tags with (the cdk cannot import them)', async () => {
    expect(POOL_CLAIM_TAG_KEYS).toEqual([...(await configPackage()).POOL_CLAIM_TAG_KEYS]);
  });

  test('refuse bad pools at synth, and pools without the runner short token', () => {
    const bad = synth(withPools([
      { name: 'a b', idleCount: 101 },
      { name: 'x', idleTime: Duration.seconds(30), policies: [{ periods: [], idleCount: -1 }] },
      { name: 'x' },
    ]));
    expect(bad.errors).toEqual(expect.arrayContaining([
      expect.stringContaining('pool "a b": a name has letters, digits'),
      expect.stringContaining('pool "a b": idleCount 101 must be a whole number from 0 to 100.'),
      expect.stringContaining('pool "x": idleTime 30 seconds must be from 1 minute to 1 day(s).'),
      expect.stringContaining('pool "x": policies[0].idleCount -1 must be a whole number from 0 to 100.'),
      expect.stringContaining('pool "x": policies[0].periods must name at least one period.'),
      expect.stringContaining('pool "x": give every pool its own name'),
    ]));
    const overridden = synth((props) => ({
      ...withPools([BUSINESS_HOURS])(props),
      manager: { ...withPools([BUSINESS_HOURS])(props).manager, extraEnvironment: { DRIVER_CONFIG_PATH: '/etc/other.toml' } },
    }));
    expect(overridden.errors).toEqual([expect.stringContaining('manager extraEnvironment DRIVER_CONFIG_PATH: this variable is set by the construct')]);
    const noToken = synth((props) => ({ ...withPools([BUSINESS_HOURS])(props), orphanReaper: undefined }));
    expect(noToken.errors).toEqual(expect.arrayContaining([expect.stringContaining("pools need the runner's short token")]));
    expect(managerDefinition(noToken.template).ContainerDefinitions.map((c) => c.Name)).toEqual(['runner-manager']);
  });
});
