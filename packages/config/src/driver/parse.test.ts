import { describe, expect, it } from 'vitest';
import { formatIssue } from '../errors.js';
import { allIssuesOf, fixture, issuesOf, unknownKeysAsWarnings } from '../test-support.js';
import { parseDriverConfig } from './parse.js';

const BASE = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n';

describe('parseDriverConfig: upstream files', () => {
  it('reads the upstream example with upstream semantics, warning about its placeholder ids', () => {
    const { config, warnings } = parseDriverConfig(fixture('upstream-driver-example.toml'), { file: 'example.toml' });
    expect(config).toMatchObject({
      logLevel: 'info',
      logFormat: 'text',
      logFile: 'fargate.log',
      fargate: {
        cluster: 'cluster-name',
        region: 'us-east-1',
        subnets: ['subnet-XYZ'],
        securityGroups: ['sg-XYZ'],
        taskDefinition: 'my-task-definition:1',
        enablePublicIp: true,
        // Upstream connects to the public IP whenever it assigns one.
        usePublicIp: true,
        platformVersion: 'LATEST',
      },
      taskMetadata: { directory: '/fargate-driver/' },
      ssh: { username: 'root', port: 22 },
    });
    expect(warnings.map(formatIssue)).toEqual([
      'example.toml:9:5: warning: Fargate.Subnet: expected subnet- followed by 8 or 17 lowercase hex digits, found "subnet-XYZ"; AWS will reject an id it never issued',
      'example.toml:10:5: warning: Fargate.SecurityGroup: expected sg- followed by 8 or 17 lowercase hex digits, found "sg-XYZ"; AWS will reject an id it never issued',
    ]);
  });

  it('matches keys case-insensitively, as upstream decodes real lowercase configs', () => {
    const { config, warnings } = parseDriverConfig(fixture('lowercase-driver.toml'));
    expect(warnings).toEqual([]);
    expect(config.logLevel).toBe('debug');
    expect(config.logFormat).toBe('json');
    expect(config.fargate).toMatchObject({ cluster: 'gitlab-ci', subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], usePublicIp: false });
    expect(config.taskMetadata.directory).toBe('/opt/gitlab-runner/metadata');
  });

  it('reads every extension key', () => {
    const { config } = parseDriverConfig(fixture('extended-driver.toml'));
    expect(config.fargate.capacityProviderStrategy).toEqual([
      { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 0 },
      { capacityProvider: 'FARGATE', weight: 1, base: 1 },
    ]);
    expect(config.fargate.tags).toEqual({ team: 'platform', 'cost-center': 'ci:dev' });
    expect(config.fargate).toMatchObject({ cpu: 2048, memory: 8192, ephemeralStorage: 50 });
    expect(config.fargate).toMatchObject({ propagateTags: 'TASK_DEFINITION', enableEcsManagedTags: true, enableExecuteCommand: true, onDemandFallback: true });
    expect(config.ssh).toEqual({ username: 'ci', port: 2222, connectTimeout: 5, keepaliveInterval: 10, keepaliveCountMax: 3, multiplex: true });
    expect(config.timeouts).toEqual({ taskStart: 300, sshReady: 60, stopTask: 30, taskPollInterval: 1.5, sshPollInterval: 0.5 });
    expect(config.overrides).toEqual({
      taskDefinitions: ['ci-coordinator:*', 'ci-large'],
      platformVersions: ['1.4.0', 'LATEST'],
      maxCpu: 4096,
      maxMemory: 16384,
      maxEphemeralStorage: 100,
      allowSpot: true,
    });
  });

  it('applies defaults, and reads upstream\'s "" and Port = 0 as unset', () => {
    const { config } = parseDriverConfig(`LogFile = ""\n${BASE}Region = ""\nPlatformVersion = ""\nSubnet = ""\n[SSH]\nPort = 0\n`);
    expect(config).toEqual({
      logLevel: 'info',
      logFormat: 'text',
      fargate: {
        cluster: 'ci',
        subnets: ['subnet-0123456789abcdef0'],
        securityGroups: [],
        taskDefinition: 'ci:1',
        enablePublicIp: false,
        usePublicIp: false,
        enableExecuteCommand: false,
        containerName: 'ci-coordinator',
        capacityProviderStrategy: [],
        onDemandFallback: true,
        tags: {},
        propagateTags: 'NONE',
        enableEcsManagedTags: false,
      },
      taskMetadata: {},
      ssh: { username: 'root', port: 22, connectTimeout: 10, keepaliveInterval: 15, keepaliveCountMax: 4, multiplex: true },
      timeouts: { taskStart: 600, sshReady: 120, stopTask: 60, taskPollInterval: 2, sshPollInterval: 1 },
      overrides: { taskDefinitions: [], platformVersions: [], allowSpot: false },
      pricing: { discountPercent: 0 },
      jobImages: {
        enabled: false,
        allowedImages: [],
        allowedServices: [],
        registryCredentials: [],
        familyPrefix: 'ci-job',
        unusedFamilyTtl: 604_800,
        serviceWaitTimeout: 30,
      },
      pools: [],
      poolDefaults: { reconcileInterval: 20, claimMargin: 120 },
    });
  });

  it('keeps UsePublicIP apart from EnablePublicIP when both are given, and reads "warn" as "warning"', () => {
    const { config } = parseDriverConfig(`LogLevel = "WARN"\n${BASE}EnablePublicIP = true\nUsePublicIP = false\n`);
    expect(config.logLevel).toBe('warning');
    expect(config.fargate).toMatchObject({ enablePublicIp: true, usePublicIp: false });
  });

  it('accepts cluster and task definition ARNs and a GovCloud Region', () => {
    const { config } = parseDriverConfig(
      '[Fargate]\nCluster = "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/ci"\nRegion = "us-gov-west-1"\nSubnet = "subnet-01234567"\n' +
        'TaskDefinition = "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/ci-job:12"\n',
    );
    expect(config.fargate.region).toBe('us-gov-west-1');
    expect(config.fargate.subnets).toEqual(['subnet-01234567']);
  });
});

describe('parseDriverConfig: unknown keys, as upstream ignores them', () => {
  const text = `LogLevl = "debug"\n${BASE}SecurityGroupz = ["sg-0123456789abcdef0"]\nUsername = "ci"\n`;

  it('uses the file and warns, naming the nearest known key or the table the key belongs under', () => {
    const { config, warnings } = parseDriverConfig(text, { file: 'f.toml' });
    expect(config.fargate).toMatchObject({ cluster: 'ci', subnets: ['subnet-0123456789abcdef0'], taskDefinition: 'ci:1', securityGroups: [] });
    expect(config.ssh.username).toBe('root');
    expect(warnings.map(formatIssue)).toEqual([
      'f.toml:1:1: warning: LogLevl: expected a known key, found unknown key "LogLevl"; did you mean "LogLevel"?',
      'f.toml:6:1: warning: Fargate.SecurityGroupz: expected a known key, found unknown key "SecurityGroupz"; did you mean "SecurityGroup"?',
      'f.toml:7:1: warning: Fargate.Username: expected a known key, found unknown key "Username"; Username belongs under [SSH] (a key belongs to the nearest table header above it)',
    ]);
  });

  it('refuses the file with the same messages as errors when strict', () => {
    expect(issuesOf(() => parseDriverConfig(text, { file: 'f.toml', strict: true }))).toEqual([
      'f.toml:1:1: error: LogLevl: expected a known key, found unknown key "LogLevl"; did you mean "LogLevel"?',
      'f.toml:6:1: error: Fargate.SecurityGroupz: expected a known key, found unknown key "SecurityGroupz"; did you mean "SecurityGroup"?',
      'f.toml:7:1: error: Fargate.Username: expected a known key, found unknown key "Username"; Username belongs under [SSH] (a key belongs to the nearest table header above it)',
    ]);
  });
});

describe('parseDriverConfig: invalid input, every problem at once with its exact message', () => {
  const cases: [string, string, string[]][] = [
    ['a syntax error', 'LogLevel = "info\n', ['f.toml:1:17: error: expected valid TOML, found control characters are not allowed in strings']],
    ['no [Fargate] table', 'LogLevel = "info"\n', ['f.toml:1:1: error: Fargate: expected a [Fargate] table, found nothing; add Fargate to the top level']],
    [
      'missing required keys',
      'LogLevel = "info"\n[Fargate]\nRegion = "eu-west-1"\n',
      [
        'f.toml:2:1: error: Fargate.Cluster: expected an ECS cluster name or ARN, found nothing; add Cluster to [Fargate]',
        'f.toml:2:1: error: Fargate.TaskDefinition: expected a task definition family, family:revision or ARN, found nothing; add TaskDefinition to [Fargate]',
        'f.toml:2:1: error: Fargate.Subnets: expected at least one subnet in Subnets (or Subnet), found none; Fargate tasks need a subnet for their network interface',
      ],
    ],
    ['an unknown top-level key', `LogLevl = "info"\n${BASE}`, ['f.toml:1:1: error: LogLevl: expected a known key, found unknown key "LogLevl"; did you mean "LogLevel"?']],
    ['an unknown key in [Fargate]', `${BASE}SecurityGroupz = ["sg-0123456789abcdef0"]\n`, ['f.toml:5:1: error: Fargate.SecurityGroupz: expected a known key, found unknown key "SecurityGroupz"; did you mean "SecurityGroup"?']],
    [
      'keys under the wrong table header',
      `Port = 22\n${BASE}Username = "ci"\n`,
      [
        'f.toml:1:1: error: Port: expected a known key, found unknown key "Port"; Port belongs under [SSH] (a key belongs to the nearest table header above it)',
        'f.toml:6:1: error: Fargate.Username: expected a known key, found unknown key "Username"; Username belongs under [SSH] (a key belongs to the nearest table header above it)',
      ],
    ],
    [
      'both Subnet and Subnets',
      '[Fargate]\nCluster = "ci"\nSubnet = "subnet-01234567"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n',
      ['f.toml:3:1: error: Fargate.Subnet: expected either Subnet or Subnets, found both; move "subnet-01234567" into Subnets and remove Subnet'],
    ],
    ['no subnet at all', '[Fargate]\nCluster = "ci"\nTaskDefinition = "ci:1"\n', ['f.toml:1:1: error: Fargate.Subnets: expected at least one subnet in Subnets (or Subnet), found none; Fargate tasks need a subnet for their network interface']],
    [
      'a key written twice in different cases',
      '[Fargate]\nCluster = "ci"\ncluster = "other"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n',
      ['f.toml:3:1: error: Fargate.Cluster: expected Cluster once (keys are case-insensitive), found both "Cluster" and "cluster"; keep one of them'],
    ],
    [
      'six security groups',
      `${BASE}SecurityGroups = ["sg-01234561", "sg-01234562", "sg-01234563", "sg-01234564", "sg-01234565", "sg-01234566"]\n`,
      ['f.toml:5:1: error: Fargate.SecurityGroups: expected an array of 0 to 5 items, each a security group id like "sg-0123456789abcdef0", found 6 items'],
    ],
    [
      'seventeen subnets',
      `[Fargate]\nCluster = "ci"\nTaskDefinition = "ci:1"\nSubnets = [${Array.from({ length: 17 }, (_, i) => `"subnet-${String(i).padStart(8, '0')}"`).join(', ')}]\n`,
      ['f.toml:4:1: error: Fargate.Subnets: expected an array of 1 to 16 items, each a subnet id like "subnet-0123456789abcdef0", found 17 items'],
    ],
    [
      'malformed ids, ARNs and Region',
      '[Fargate]\nCluster = "my cluster"\nSubnets = ["sg-01234567", "subnet-01234567", "subnet-01234567"]\nTaskDefinition = "arn:aws:ecs:eu-west-1:123:task-definition/x"\nRegion = "Ireland"\n',
      [
        'f.toml:2:1: error: Fargate.Cluster: expected an ECS cluster name or ARN, found "my cluster"',
        'f.toml:3:12: error: Fargate.Subnets[0]: expected a subnet id like "subnet-0123456789abcdef0", found "sg-01234567"',
        'f.toml:3:46: error: Fargate.Subnets[2]: expected each value once, found a repeat of "subnet-01234567"; remove the duplicate',
        'f.toml:4:1: error: Fargate.TaskDefinition: expected a task definition family, family:revision or ARN, found "arn:aws:ecs:eu-west-1:123:task-definition/x"',
        'f.toml:5:1: error: Fargate.Region: expected an AWS Region like "eu-west-1", found "Ireland"',
      ],
    ],
    [
      'a strategy ECS would refuse',
      `${BASE}CapacityProviderStrategy = [{ CapacityProvider = "FARGATE_SPOT", Weight = 0, Base = 1 }, { CapacityProvider = "FARGATE", Weight = 0, Base = 2 }]\n`,
      [
        'f.toml:5:1: error: Fargate.CapacityProviderStrategy: expected at least one capacity provider with Weight > 0, found every Weight = 0',
        'f.toml:5:90: error: Fargate.CapacityProviderStrategy[1]: expected Base > 0 on at most one capacity provider, found Base on 2 providers',
      ],
    ],
    [
      'a non-Fargate capacity provider and a misnamed key',
      `${BASE}CapacityProviderStrategy = [{ CapacityProvider = "EC2_SPOT" }, { Provider = "FARGATE" }]\n`,
      [
        'f.toml:5:31: error: Fargate.CapacityProviderStrategy[0].CapacityProvider: expected one of "FARGATE", "FARGATE_SPOT", found "EC2_SPOT"',
        'f.toml:5:64: error: Fargate.CapacityProviderStrategy[1].CapacityProvider: expected one of "FARGATE", "FARGATE_SPOT", found nothing; add CapacityProvider to Fargate.CapacityProviderStrategy[1]',
        'f.toml:5:66: error: Fargate.CapacityProviderStrategy[1].Provider: expected a known key, found unknown key "Provider"; known keys here: CapacityProvider, Weight, Base',
      ],
    ],
    [
      'a reserved tag key and a non-string tag value',
      `${BASE}[Fargate.Tags]\n"aws:owner" = "me"\nteam = 7\n`,
      [
        'f.toml:6:1: error: Fargate.Tags.aws:owner: expected a tag key of letters, digits, spaces and _.:/=+-@, not starting with "aws:", found "aws:owner"',
        'f.toml:7:1: error: Fargate.Tags.team: expected a tag value of letters, digits, spaces and _.:/=+-@, found 7 (an integer)',
      ],
    ],
    [
      "the driver's own tag keys, which gc and the orphan reaper trust",
      `${BASE}[Fargate.Tags]\n"gitlab-fargate:deadline" = "2099-01-01T00:00:00Z"\n"GitLab-Fargate:Runner" = "x"\n"gitlab-fargate:environment" = "dev"\n`,
      [
        'f.toml:6:1: error: Fargate.Tags.gitlab-fargate:deadline: expected a tag key other than the driver\'s own (gitlab-fargate:job-id, gitlab-fargate:runner, gitlab-fargate:project, gitlab-fargate:deadline, gitlab-fargate:manager), found "gitlab-fargate:deadline"; the driver sets that tag on every task itself, and gc and the orphan reaper trust it: rename or remove this tag',
        'f.toml:7:1: error: Fargate.Tags.GitLab-Fargate:Runner: expected a tag key other than the driver\'s own (gitlab-fargate:job-id, gitlab-fargate:runner, gitlab-fargate:project, gitlab-fargate:deadline, gitlab-fargate:manager), found "GitLab-Fargate:Runner"; the driver sets that tag on every task itself, and gc and the orphan reaper trust it: rename or remove this tag',
      ],
    ],
    [
      'a task size Fargate does not offer',
      `${BASE}Cpu = 1024\nMemory = 1024\nEphemeralStorage = 20\n`,
      [
        'f.toml:6:1: error: Fargate.Memory: expected a memory size Fargate offers with Cpu = 1024: 2048, 3072, 4096, 5120, 6144, 7168, 8192, found 1024 (an integer)',
        'f.toml:7:1: error: Fargate.EphemeralStorage: expected GiB from 21 to 200, found 20 (an integer)',
      ],
    ],
    ['a CPU value Fargate does not offer', `${BASE}Cpu = 3000\nMemory = 8192\n`, ['f.toml:5:1: error: Fargate.Cpu: expected Fargate CPU units: one of 256, 512, 1024, 2048, 4096, 8192, 16384, found 3000 (an integer)']],
    ['Cpu without Memory', `${BASE}Cpu = 1024\n`, ['f.toml:1:1: error: Fargate.Memory: expected Memory together with Cpu, found nothing; Fargate sizes are cpu/memory pairs: add Memory']],
    [
      'override ceilings outside what Fargate offers',
      `${BASE}[Overrides]\nMaxCpu = 100\nMaxMemory = 200000\nMaxEphemeralStorage = 20\nTaskDefinitions = "ci"\nAllowSpot = "yes"\n`,
      [
        'f.toml:6:1: error: Overrides.MaxCpu: expected CPU units from 256 to 16384 (Fargate sizes: 256, 512, 1024, 2048, 4096, 8192, 16384), found 100 (an integer)',
        'f.toml:7:1: error: Overrides.MaxMemory: expected MiB from 512 to 122880, found 200000 (an integer)',
        'f.toml:8:1: error: Overrides.MaxEphemeralStorage: expected GiB from 21 to 200, found 20 (an integer)',
        'f.toml:9:1: error: Overrides.TaskDefinitions: expected an array of items, each a task definition family, family:revision, ARN or * pattern, found "ci"',
        'f.toml:10:1: error: Overrides.AllowSpot: expected true or false, found "yes"',
      ],
    ],
    [
      'out-of-range SSH and timeout values',
      `${BASE}[SSH]\nPort = 70000\nUsername = ""\n[Timeouts]\nTaskStart = 5\nSSHReadiness = 10\n`,
      [
        'f.toml:6:1: error: SSH.Port: expected a port from 1 to 65535 (0 means 22), found 70000 (an integer)',
        'f.toml:7:1: error: SSH.Username: expected a user name (1 to 32 characters), found ""',
        'f.toml:9:1: error: Timeouts.TaskStart: expected a number from 10 to 3600, found 5 (an integer)',
        'f.toml:10:1: error: Timeouts.SSHReadiness: expected a known key, found unknown key "SSHReadiness"; known keys here: TaskStart, SSHReady, StopTask, TaskPollInterval, SSHPollInterval',
      ],
    ],
    [
      'values of the wrong type',
      `LogLevel = 3\nSSH = "root"\n${BASE}EnablePublicIP = "true"\n`,
      [
        'f.toml:1:1: error: LogLevel: expected one of "trace", "debug", "info", "warning", "error", "fatal", "panic", found 3 (an integer)',
        'f.toml:2:1: error: SSH: expected an [SSH] table, found "root"',
        'f.toml:7:1: error: Fargate.EnablePublicIP: expected true or false, found "true"',
      ],
    ],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    expect(issuesOf(() => parseDriverConfig(text, { file: 'f.toml', strict: true }))).toEqual(expected);
    // Without strict, as upstream's decoder, an unknown key is only a warning; everything else is reported alike.
    expect(allIssuesOf(() => parseDriverConfig(text, { file: 'f.toml' }))).toEqual(unknownKeysAsWarnings(expected));
  });
});
