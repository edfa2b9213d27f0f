import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseDriverConfig } from './driver/parse.js';
import { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR } from './contract/job-container.js';
import { parseRunnerConfig } from './runner/parse.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as a process, with only the environment given (plus PATH). */
function run(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, ...(cwd ? { cwd } : {}) }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx projen compile" first (nx's test target does)`);
  dir = await mkdtemp(join(tmpdir(), 'gitlab-fargate-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DRIVER_ENV = { CLUSTER: 'ci', SUBNETS: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1', TASK_DEFINITION: 'ci-job:3' };
const SECRET = 'glrt-DoNotPrintMe0123456789';

describe('gitlab-fargate-config --help', () => {
  it.each([[['--help']], [['validate', '--help']], [['render', '--help']], [['render', 'driver', '--help']], [['render', 'runner', '--help']]])('%j prints usage and exits 0', async (args) => {
    const result = await run(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: gitlab-fargate-config/);
  });

  it('lists every contract variable in render help', async () => {
    const driver = (await run(['render', 'driver', '--help'])).stdout;
    for (const name of ['CLUSTER', 'REGION', 'SUBNETS', 'SECURITY_GROUP_IDS', 'TASK_DEFINITION', 'ENABLE_PUBLIC_IP', 'USE_PUBLIC_IP', 'PLATFORM_VERSION', 'METADATA_DIR', 'SSH_USERNAME', 'SSH_PORT', 'LOG_LEVEL', 'CAPACITY_PROVIDER_STRATEGY', 'TASK_TAGS']) {
      expect(driver).toContain(`(${name})`);
    }
    const runner = (await run(['render', 'runner', '--help'])).stdout;
    for (const name of ['GITLAB_URL', 'RUNNER_TOKEN', 'RUNNER_NAME', 'RUNNER_TAGS', 'CONCURRENT', 'DRIVER_PATH', 'RUN_EXEC_PATH', 'CLEANUP_EXEC_PATH', 'DRIVER_CONFIG_PATH', 'BUILDS_DIR', 'CACHE_DIR', 'CHECK_INTERVAL', 'CACHE_S3_BUCKET', 'CACHE_S3_REGION']) {
      expect(runner).toContain(`(${name})`);
    }
  });

  it('exits 2 on an unknown command or flag', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const result = await run(['render', 'driver', '--clustre', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--clustre'");
  });
});

describe('gitlab-fargate-config validate', () => {
  it('accepts every fixture, detecting its kind', async () => {
    const files = ['upstream-driver-example.toml', 'lowercase-driver.toml', 'extended-driver.toml', 'runner-custom-executor.toml'].map((name) => join(FIXTURES, name));
    const result = await run(['validate', ...files]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${files[0]}: valid driver configuration (2 warnings)`,
      `${files[1]}: valid driver configuration`,
      `${files[2]}: valid driver configuration`,
      `${files[3]}: valid runner configuration`,
    ]);
  });

  it('reports every problem of every file, located, and exits 2', async () => {
    const bad = join(dir, 'bad.toml');
    await writeFile(bad, '[Fargate]\nCluster = "ci"\nSubnets = ["nope"]\n');
    const result = await run(['validate', bad, join(FIXTURES, 'lowercase-driver.toml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}:1:1: error: Fargate.TaskDefinition: expected a task definition family, family:revision or ARN, found nothing; add TaskDefinition to [Fargate]`);
    expect(result.stderr).toContain(`${bad}:3:12: error: Fargate.Subnets[0]: expected a subnet id like "subnet-0123456789abcdef0", found "nope"`);
    expect(result.stderr).toContain(`${bad}: invalid (2 errors)`);
    expect(result.stdout).toContain('lowercase-driver.toml: valid driver configuration');
  });

  it('asks for --kind when a file could be either, and honours it', async () => {
    const empty = join(dir, 'empty.toml');
    await writeFile(empty, '# nothing yet\n');
    const detected = await run(['validate', empty]);
    expect(detected.code).toBe(2);
    expect(detected.stderr).toContain('found neither a [Fargate] table nor [[runners]]; pass --kind driver|runner');
    const forced = await run(['validate', '--kind', 'runner', empty]);
    expect(forced.stderr).toContain('runners: expected an array of at least 1 items');
  });

  it('--print prints the normalized file, with the runner token hidden', async () => {
    const driver = await run(['validate', '--print', join(FIXTURES, 'lowercase-driver.toml')]);
    expect(driver.code).toBe(0);
    expect(parseDriverConfig(driver.stdout).config.fargate.cluster).toBe('gitlab-ci');
    expect(driver.stdout).toContain('[Fargate]\n  Cluster = "gitlab-ci"');
    const runnerFile = join(dir, 'runner.toml');
    await writeFile(runnerFile, (await readFile(join(FIXTURES, 'runner-custom-executor.toml'), 'utf8')).replace('glrt-…', SECRET));
    const runner = await run(['validate', '--print', runnerFile]);
    expect(runner.code).toBe(0);
    expect(runner.stdout).toContain('token = "[REDACTED]"');
    expect(runner.stdout + runner.stderr).not.toContain('DoNotPrintMe');
  });

  it('--print shows each [[runners]] environment entry as KEY=[REDACTED], and the printed file is still valid', async () => {
    // The runner-manager image advises --print as the safe way to look at the files, and its output goes to CloudWatch.
    const runnerFile = join(dir, 'runner-environment.toml');
    const original = await readFile(join(FIXTURES, 'runner-custom-executor.toml'), 'utf8');
    const environment = '  environment = ["DEPLOY_KEY=DoNotPrintMe-1", "HTTPS_PROXY=http://user:DoNotPrintMe-2@proxy:3128", "EMPTY="]\n';
    await writeFile(runnerFile, original.replace('  [runners.custom]\n', `${environment}  [runners.custom]\n`));
    const runner = await run(['validate', '--print', runnerFile]);
    expect(runner.code).toBe(0);
    expect(runner.stdout).toContain('environment = ["DEPLOY_KEY=[REDACTED]", "HTTPS_PROXY=[REDACTED]", "EMPTY=[REDACTED]"]');
    expect(runner.stdout + runner.stderr).not.toContain('DoNotPrintMe');
    const printed = join(dir, 'printed.toml');
    await writeFile(printed, runner.stdout);
    expect((await run(['validate', '--kind', 'runner', printed])).code).toBe(0);
  });

  it('--print hides the GCS and Azure cache keys (PrivateKey, AccountKey), not the names beside them', async () => {
    const runnerFile = join(dir, 'runner-cache.toml');
    const original = await readFile(join(FIXTURES, 'runner-custom-executor.toml'), 'utf8');
    const cache =
      '  [runners.cache]\n    Type = "azure"\n  [runners.cache.azure]\n    AccountName = "ciaccount"\n    AccountKey = "DoNotPrintMe-1"\n' +
      '  [runners.cache.gcs]\n    AccessID = "ci@example.iam.gserviceaccount.com"\n    PrivateKey = "DoNotPrintMe-2"\n';
    await writeFile(runnerFile, `${original}\n${cache}`);
    const runner = await run(['validate', '--print', runnerFile]);
    expect(runner.code, runner.stderr).toBe(0);
    expect(runner.stdout).toContain('AccountName = "ciaccount"');
    expect(runner.stdout).toContain('AccountKey = "[REDACTED]"');
    expect(runner.stdout).toContain('PrivateKey = "[REDACTED]"');
    expect(runner.stdout + runner.stderr).not.toContain('DoNotPrintMe');
  });
});

describe('gitlab-fargate-config validate: unknown keys, unreadable files, secrets', () => {
  it('warns about an unknown key and exits 0; --strict makes it an error and exits 2', async () => {
    const file = join(dir, 'unknown.toml');
    await writeFile(file, '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\nSecurityGroupz = []\nPort = 22\n');
    const lenient = await run(['validate', file]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toBe(`${file}: valid driver configuration (2 warnings)\n`);
    expect(lenient.stderr.trim().split('\n')).toEqual([
      `${file}:5:1: warning: Fargate.SecurityGroupz: expected a known key, found unknown key "SecurityGroupz"; did you mean "SecurityGroup"?`,
      `${file}:6:1: warning: Fargate.Port: expected a known key, found unknown key "Port"; Port belongs under [SSH] (a key belongs to the nearest table header above it)`,
    ]);
    const strict = await run(['validate', '--strict', file]);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toContain(`${file}:5:1: error: Fargate.SecurityGroupz: expected a known key`);
    expect(strict.stderr).toContain(`${file}: invalid (2 errors)`);
  });

  it('refuses a named pipe and /dev/zero at once with exit 2, instead of hanging', { timeout: 15_000 }, async () => {
    const fifo = join(dir, 'fifo.toml');
    await new Promise((resolve, reject) => execFile('mkfifo', [fifo], (error) => (error === null ? resolve(undefined) : reject(error))));
    // Should the CLI still wait on the FIFO (the bug this guards against), a writer's open and close ends its read,
    // so a timed-out test leaves no process behind.
    onTestFinished(() => open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((handle) => handle.close(), () => undefined));
    const result = await run(['validate', fifo, '/dev/zero']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${fifo}: cannot read: expected a regular file of at most 1 MiB, found a named pipe (FIFO); give the path of the TOML file itself`,
      '/dev/zero: cannot read: expected a regular file of at most 1 MiB, found a character device; give the path of the TOML file itself',
    ]);
  });

  it('never echoes a malformed [[runners]] environment entry', async () => {
    const file = join(dir, 'environment.toml');
    const text = (await readFile(join(FIXTURES, 'runner-custom-executor.toml'), 'utf8')).replace(/^(\s*executor = .*)$/m, '$1\n  environment = ["DEPLOY_TOKEN glpat-DoNotPrintMe", "AWS-KEY=DoNotPrintMe"]');
    await writeFile(file, text);
    const result = await run(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runners[0].environment[0]: expected a "KEY=value" string');
    expect(result.stderr).toContain('runners[0].environment[1]: expected a "KEY=value" string (KEY of letters, digits and _, not starting with a digit), found the name "AWS-KEY" before "=" (the value is not shown)');
    expect(result.stdout + result.stderr).not.toMatch(/DoNotPrintMe|glpat|DEPLOY_TOKEN/);
  });
});

describe('gitlab-fargate-config render driver', () => {
  it('writes a valid file with mode 0600 from the environment, flags winning', async () => {
    const out = join(dir, 'fargate.toml');
    const result = await run(
      ['render', 'driver', '--out', out, '--cluster', 'from-flag', '--capacity-provider-strategy', 'FARGATE_SPOT:1,FARGATE:0', '--tags', 'team=ci,env=dev'],
      { ...DRIVER_ENV, SECURITY_GROUP_IDS: 'sg-0123456789abcdef0', ENABLE_PUBLIC_IP: 'true', USE_PUBLIC_IP: 'false', SSH_PORT: '2222', LOG_LEVEL: 'debug', REGION: '' },
    );
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const { config } = parseDriverConfig(await readFile(out, 'utf8'));
    expect(config.logLevel).toBe('debug');
    expect(config.fargate).toMatchObject({
      cluster: 'from-flag',
      subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      securityGroups: ['sg-0123456789abcdef0'],
      taskDefinition: 'ci-job:3',
      enablePublicIp: true,
      usePublicIp: false,
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 },
        { capacityProvider: 'FARGATE', weight: 0, base: 0 },
      ],
      tags: { team: 'ci', env: 'dev' },
    });
    expect(config.fargate.region).toBeUndefined();
    expect(config.taskMetadata.directory).toBe('/opt/gitlab-runner/metadata');
    expect(config.ssh).toMatchObject({ username: 'root', port: 2222 });
  });

  it.each([[[]], [['--out', '-']]])('prints to stdout with %j', async (outArgs) => {
    const cwd = await mkdtemp(join(tmpdir(), 'render-stdout-'));
    const result = await run(['render', 'driver', ...outArgs], DRIVER_ENV, cwd);
    expect(result.code).toBe(0);
    expect(parseDriverConfig(result.stdout).config.fargate.cluster).toBe('ci');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('on bad input names the flag and variable, writes nothing, and exits 2', async () => {
    const out = join(dir, 'untouched.toml');
    await writeFile(out, 'old content\n', { mode: 0o644 });
    const before = await readdir(dir);
    const result = await run(['render', 'driver', '--out', out, '--subnets', 'subnet-0123456789abcdef0,sg-1', '--ssh-port', 'twenty-two'], { TASK_DEFINITION: 'ci-job:3' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'render driver: error: --cluster (CLUSTER): Fargate.Cluster: expected an ECS cluster name or ARN, found nothing; add Cluster to [Fargate]',
      'render driver: error: --subnets (SUBNETS): Fargate.Subnets[1]: expected a subnet id like "subnet-0123456789abcdef0", found "sg-1"',
      'render driver: error: --ssh-port (SSH_PORT): SSH.Port: expected a port from 1 to 65535 (0 means 22), found "twenty-two"',
      'render driver: nothing written; see "gitlab-fargate-config render driver --help"',
    ]);
    expect(await readFile(out, 'utf8')).toBe('old content\n');
    expect(await readdir(dir)).toEqual(before);
  });

  it('renders [JobImages] from flags: patterns with {a,b} stay whole, credentials are REGISTRY=ARN', async () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:reg=x-AbCdEf';
    const result = await run(
      ['render', 'driver', '--job-images', 'true', '--allowed-images', '{ruby,node}:*, registry.example.com/**', '--registry-credentials', `registry.example.com=${secret}`],
      { ...DRIVER_ENV, JOB_AGENT_IMAGE: 'registry.example.com/gf/job-agent:1', ARM64_JOB_AGENT_IMAGE: 'registry.example.com/gf/job-agent:1-arm64', UNUSED_FAMILY_TTL: '86400' },
    );
    expect(result.code).toBe(0);
    expect(parseDriverConfig(result.stdout).config.jobImages).toEqual({
      enabled: true,
      allowedImages: ['{ruby,node}:*', 'registry.example.com/**'],
      allowedServices: [],
      agentImage: 'registry.example.com/gf/job-agent:1',
      arm64AgentImage: 'registry.example.com/gf/job-agent:1-arm64',
      registryCredentials: [{ registry: 'registry.example.com', secretArn: secret }],
      familyPrefix: 'ci-job-job',
      unusedFamilyTtl: 86_400,
      serviceWaitTimeout: 30,
    });
    const missing = await run(['render', 'driver', '--job-images', 'true'], DRIVER_ENV);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('render driver: error: --agent-image (JOB_AGENT_IMAGE): JobImages.AgentImage: expected the job-agent image when Enabled = true');
  });

  it('renders [[Pool]] with its policies from POOLS (JSON) and [PoolSettings] from POOL_DIRECTORY and POOL_METRICS_PORT', async () => {
    const pools = [{ Name: 'business-hours', IdleCount: 0, MaxIdle: 4, Policy: [{ Periods: ['* 8-17 * * mon-fri'], Timezone: 'Europe/Berlin', IdleCount: 2 }] }];
    const env = { ...DRIVER_ENV, POOLS: JSON.stringify(pools), POOL_DIRECTORY: '/var/lib/gitlab-fargate/pool', POOL_METRICS_PORT: '9464' };
    const result = await run(['render', 'driver'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { config } = parseDriverConfig(result.stdout);
    expect(config.pools).toEqual([
      { name: 'business-hours', idleCount: 0, idleTime: 1200, maxIdle: 4, maxAge: 14_400, policies: [{ periods: ['* 8-17 * * mon-fri'], timezone: 'Europe/Berlin', idleCount: 2 }] },
    ]);
    expect(config.poolDefaults).toMatchObject({ directory: '/var/lib/gitlab-fargate/pool', metricsPort: 9464 });
    const bad = await run(['render', 'driver'], { ...DRIVER_ENV, POOLS: '[{"Name":"x","IdleCount":"two"}]' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('render driver: error: --pools (POOLS): Pool[0].IdleCount: expected a number of idle tasks from 0 to 100');
    const notJson = await run(['render', 'driver'], { ...DRIVER_ENV, POOLS: 'Name=x' });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/pools: expected JSON, e\.g\. \[\{"Name":"default","IdleCount":2\}\], found invalid JSON/);
  });

  it('refuses an --out path in a directory that does not exist, with exit 2', async () => {
    const result = await run(['render', 'driver', '--out', join(dir, 'missing', 'fargate.toml')], DRIVER_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--out: expected a path in an existing directory');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('rejects a malformed strategy or tag list as a usage error', async () => {
    const strategy = await run(['render', 'driver', '--capacity-provider-strategy', 'FARGATE_SPOT:1:0:9'], DRIVER_ENV);
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toContain('capacity provider strategy: expected NAME[:WEIGHT[:BASE]] items separated by commas, found "FARGATE_SPOT:1:0:9"');
    const tags = await run(['render', 'driver', '--tags', 'team'], DRIVER_ENV);
    expect(tags.code).toBe(2);
    expect(tags.stderr).toContain('tags: expected KEY=VALUE items separated by commas, found "team"');
  });

  it("refuses a tag the driver sets itself, naming the flag and variable, and writes nothing", async () => {
    const out = join(dir, 'reserved-tag.toml');
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--tags', 'team=ci,gitlab-fargate:deadline=2099-01-01T00:00:00Z'], DRIVER_ENV, 'gitlab-fargate:deadline'],
      [[], { ...DRIVER_ENV, TASK_TAGS: 'gitlab-fargate:job-id=1' }, 'gitlab-fargate:job-id'],
    ];
    for (const [args, env, key] of cases) {
      const result = await run(['render', 'driver', '--out', out, ...args], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`error: --tags (TASK_TAGS): Fargate.Tags.${key}: expected a tag key other than the driver's own`);
      expect(result.stderr).toContain('rename or remove this tag');
      expect(existsSync(out)).toBe(false);
    }
    // The CDK constructs' own environment tag stays allowed.
    const allowed = await run(['render', 'driver', '--tags', 'gitlab-fargate:environment=dev'], DRIVER_ENV);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('"gitlab-fargate:environment" = "dev"');
  });
});

describe('gitlab-fargate-config render runner', () => {
  it('wires every stage to the driver, with mode 0600, replacing an existing file', async () => {
    const out = join(dir, 'config.toml');
    await writeFile(out, 'old\n', { mode: 0o644 });
    const result = await run(['render', 'runner', '--out', out, '--concurrent', '4', '--driver-config', '/etc/gitlab-runner/dev.toml'], {
      GITLAB_URL: 'https://gitlab.example.com/',
      RUNNER_TOKEN: SECRET,
      RUNNER_NAME: 'fargate-dev',
      RUNNER_TAGS: 'dev,fargate',
      CACHE_S3_BUCKET: 'ci-cache-dev',
      CACHE_S3_REGION: 'eu-west-1',
    });
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const text = await readFile(out, 'utf8');
    expect(text).toContain('# Runner tags (informational: with glrt- tokens, tags are set on the runner in GitLab): dev, fargate');
    const { config, warnings } = parseRunnerConfig(text);
    expect(warnings).toEqual([]);
    expect(config.concurrent).toBe(4);
    const [runner] = config.runners;
    expect(runner).toMatchObject({ name: 'fargate-dev', url: 'https://gitlab.example.com/', token: SECRET, executor: 'custom', buildsDir: DEFAULT_BUILDS_DIR, cacheDir: DEFAULT_CACHE_DIR });
    for (const stage of ['config', 'prepare', 'run', 'cleanup'] as const) {
      expect(runner?.custom[`${stage}Exec` as 'runExec']).toBe('/usr/local/bin/gitlab-fargate-driver');
      expect(runner?.custom[`${stage}Args` as 'runArgs']).toEqual(['--config', '/etc/gitlab-runner/dev.toml', 'custom', stage]);
    }
    expect(runner?.cache).toMatchObject({ type: 's3', s3: { bucketName: 'ci-cache-dev', bucketLocation: 'eu-west-1', authenticationType: 'iam' } });
  });

  it("points run_exec alone at the driver's native run client when given, with the driver's arguments", async () => {
    const out = join(dir, 'native.toml');
    const result = await run(['render', 'runner', '--out', out], {
      GITLAB_URL: 'https://gitlab.example.com/',
      RUNNER_TOKEN: SECRET,
      RUN_EXEC_PATH: '/usr/local/bin/gitlab-fargate-run',
    });
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    const [runner] = parseRunnerConfig(await readFile(out, 'utf8')).config.runners;
    expect(runner?.custom).toMatchObject({
      configExec: '/usr/local/bin/gitlab-fargate-driver',
      runExec: '/usr/local/bin/gitlab-fargate-run',
      runArgs: ['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'run'],
      cleanupExec: '/usr/local/bin/gitlab-fargate-driver',
    });
  });

  it("points cleanup_exec at the driver's native client when given, with the driver's arguments", async () => {
    const out = join(dir, 'native-cleanup.toml');
    const result = await run(['render', 'runner', '--out', out, '--cleanup-exec', '/usr/local/bin/gitlab-fargate-run'], {
      GITLAB_URL: 'https://gitlab.example.com/',
      RUNNER_TOKEN: SECRET,
      RUN_EXEC_PATH: '/usr/local/bin/gitlab-fargate-run',
    });
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    const [runner] = parseRunnerConfig(await readFile(out, 'utf8')).config.runners;
    expect(runner?.custom).toMatchObject({
      configExec: '/usr/local/bin/gitlab-fargate-driver',
      prepareExec: '/usr/local/bin/gitlab-fargate-driver',
      runExec: '/usr/local/bin/gitlab-fargate-run',
      cleanupExec: '/usr/local/bin/gitlab-fargate-run',
      cleanupArgs: ['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'cleanup'],
    });
  });

  it('warns about a registration token without ever printing it', async () => {
    const token = 'GR1348941SecretPartXYZ';
    const result = await run(['render', 'runner', '--url', 'https://gitlab.com/'], { RUNNER_TOKEN: token });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('render runner: warning: --token (RUNNER_TOKEN): runners[0].token: expected a runner authentication token (glrt-…), found a registration token (GR1348941…)');
    expect(result.stderr).not.toContain('SecretPartXYZ');
  });

  it('does not echo a value given without its flag, which may be the token', async () => {
    const result = await run(['render', 'runner', '--url', 'https://gitlab.com/', 'glrt-StrayValue']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('found a value without its flag (not shown, as it may be a secret)');
    expect(result.stderr).not.toContain('StrayValue');
  });

  it('never echoes the token in errors, and writes nothing', async () => {
    const out = join(dir, 'never.toml');
    const result = await run(['render', 'runner', '--out', out, '--token', 'glrt-has a space Secret'], { GITLAB_URL: 'ftp://gitlab.com' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--token (RUNNER_TOKEN): runners[0].token: expected a runner authentication token (glrt-…), found a string of 23 characters (not shown)');
    expect(result.stderr).toContain('--url (GITLAB_URL): runners[0].url: expected an http:// or https:// URL, found "ftp://gitlab.com"');
    expect(result.stderr).not.toContain('Secret');
    expect(existsSync(out)).toBe(false);
  });
});
