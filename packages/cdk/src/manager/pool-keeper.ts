import { Duration, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PoolOptions } from './pool-options';

/** The folder the manager and keeper containers share: the driver's TOML and the pool directory. */
export const POOL_SHARED_PATH = '/var/lib/gitlab-fargate';
/** The driver's TOML on the shared volume: the manager renders it (and re-renders it in place), the keeper reads it. */
export const POOL_DRIVER_CONFIG = `${POOL_SHARED_PATH}/fargate.toml`;
/** `[PoolSettings] Directory`: where claims (renames) happen; the manager's driver and the keeper both work there. */
export const POOL_DIRECTORY = `${POOL_SHARED_PATH}/pool`;
/**
 * The keeper's Prometheus port (`[PoolSettings] MetricsPort`): the OpenTelemetry Prometheus exporter's default port,
 * free in a manager task (gitlab-runner's own metrics listener is off).
 */
export const POOL_METRICS_PORT = 9464;
/**
 * The only tag keys a manager may set on a running task: prepare retags a claimed pool task with the job's deadline,
 * the claim, and the job's ID and project. The config contract's `POOL_CLAIM_TAG_KEYS`: a test checks that the copies
 * agree (a jsii package cannot import it).
 */
export const POOL_CLAIM_TAG_KEYS = ['gitlab-fargate:deadline', 'gitlab-fargate:pool-claimed', 'gitlab-fargate:job-id', 'gitlab-fargate:project'];

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const KEEPER_USER = 'gitlab-runner';

/**
 * The settings the managers render the pools from: `POOLS` (the `[[Pool]]` tables as JSON, in the settings parameter,
 * so a pool change replaces no manager), the pool directory and the metrics port (start-only: task definition).
 */
export function poolSettings(pools: PoolOptions[]): { [name: string]: string } {
  const tables = pools.map((pool) => ({
    Name: pool.name,
    IdleCount: pool.idleCount ?? 0,
    IdleTime: (pool.idleTime ?? Duration.minutes(20)).toSeconds(),
    MaxIdle: pool.maxIdle ?? 10,
    MaxAge: (pool.maxAge ?? Duration.hours(4)).toSeconds(),
    Policy: (pool.policies ?? []).map((policy) => ({
      Periods: policy.periods ?? ['* * * * *'],
      Timezone: policy.timezone ?? 'UTC',
      IdleCount: policy.idleCount,
      ...(policy.idleTime === undefined ? {} : { IdleTime: policy.idleTime.toSeconds() }),
    })),
  }));
  return { POOLS: JSON.stringify(tables), POOL_DIRECTORY, POOL_METRICS_PORT: String(POOL_METRICS_PORT) };
}

/** What is wrong with the pools, each problem with its fix; the config CLI checks the cron periods at render. */
export function poolProblems(pools: PoolOptions[], runnerShortToken: string | undefined): string[] {
  const problems: string[] = [];
  if (pools.length > 0 && runnerShortToken === undefined) {
    problems.push(
      "pools need the runner's short token (orphanReaper: { runnerShortToken }): the keeper starts the pool tasks " +
        "under the runner's identity, which only the manager container could otherwise derive from the token.",
    );
  }
  const seen = new Set<string>();
  for (const pool of pools) {
    const where = `pool ${JSON.stringify(pool.name)}`;
    if (!POOL_NAME.test(pool.name)) problems.push(`${where}: a name has letters, digits, _ and -, 1 to 63 characters, starting with a letter or digit.`);
    if (seen.has(pool.name)) problems.push(`${where}: give every pool its own name (it names a directory and a tag).`);
    seen.add(pool.name);
    problems.push(...countProblems(where, pool));
    problems.push(...durationProblems(where, pool));
  }
  if (pools.length > 20) problems.push(`${pools.length} pools: at most 20.`);
  return problems;
}

function countProblems(where: string, pool: PoolOptions): string[] {
  const counts: [string, number | undefined][] = [['idleCount', pool.idleCount], ['maxIdle', pool.maxIdle]];
  (pool.policies ?? []).forEach((policy, index) => counts.push([`policies[${index}].idleCount`, policy.idleCount]));
  return counts
    .filter(([, value]) => value !== undefined && !Token.isUnresolved(value) && !(Number.isInteger(value) && value >= 0 && value <= 100))
    .map(([name, value]) => `${where}: ${name} ${value} must be a whole number from 0 to 100.`);
}

function durationProblems(where: string, pool: PoolOptions): string[] {
  const day = 86_400;
  const durations: [string, Duration | undefined, number][] = [['idleTime', pool.idleTime, day], ['maxAge', pool.maxAge, 7 * day]];
  (pool.policies ?? []).forEach((policy, index) => durations.push([`policies[${index}].idleTime`, policy.idleTime, day]));
  const problems: string[] = [];
  for (const [name, duration, max] of durations) {
    if (duration === undefined || Token.isUnresolved(duration.toSeconds())) continue;
    const seconds = duration.toSeconds();
    if (seconds < 60 || seconds > max) problems.push(`${where}: ${name} ${duration.toHumanString()} must be from 1 minute to ${max / day} day(s).`);
  }
  (pool.policies ?? []).forEach((policy, index) => {
    if (policy.periods !== undefined && policy.periods.length === 0) problems.push(`${where}: policies[${index}].periods must name at least one period.`);
  });
  return problems;
}

/** What {@link addPoolKeeper} adds the keeper with. */
export interface PoolKeeperContainerOptions {
  readonly image: ecs.ContainerImage;
  /** The runner-manager container: it gets the shared volume and waits for its ownership. */
  readonly manager: ecs.ContainerDefinition;
  readonly runnerShortToken: string;
  readonly region: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Adds the warm-pool keeper to the manager task: a task volume shared with the manager container at
 * {@link POOL_SHARED_PATH}, a short first container that hands it to the runner's user (a new volume is root's),
 * and the keeper, `gitlab-fargate-driver pool keep` from the manager image, reading the manager's driver TOML.
 * Neither is essential: a keeper that dies costs warm starts, never the manager's jobs (ECS restarts it in place).
 * @returns the keeper container
 */
export function addPoolKeeper(
  scope: Construct, definition: ecs.TaskDefinition, options: PoolKeeperContainerOptions,
): ecs.ContainerDefinition {
  const volume = 'gitlab-fargate-shared';
  definition.addVolume({ name: volume });
  const mount: ecs.MountPoint = { sourceVolume: volume, containerPath: POOL_SHARED_PATH, readOnly: false };
  const prepare = definition.addContainer('Shared Volume', {
    containerName: 'shared-volume',
    image: options.image,
    essential: false,
    user: '0',
    entryPoint: ['/bin/sh', '-c'],
    command: [`chown ${KEEPER_USER}: ${POOL_SHARED_PATH} && chmod 0700 ${POOL_SHARED_PATH}`],
    logging: ecs.LogDrivers.awsLogs({ logGroup: keeperLogGroup(scope, options.logRetention), streamPrefix: 'shared-volume' }),
  });
  prepare.addMountPoints(mount);
  options.manager.addMountPoints(mount);
  options.manager.addContainerDependencies({ container: prepare, condition: ecs.ContainerDependencyCondition.SUCCESS });
  const keeper = definition.addContainer('Pool Keeper', {
    containerName: 'pool-keeper',
    image: options.image,
    essential: false,
    user: KEEPER_USER,
    // tini forwards the image's stop signal (SIGQUIT) to the keeper, which then stops its idle tasks (within 90 s).
    entryPoint: ['/usr/bin/tini', '--', '/bin/sh', '-c'],
    command: [keeperScript()],
    environment: { GITLAB_FARGATE_RUNNER_SHORT_TOKEN: options.runnerShortToken, AWS_REGION: options.region },
    logging: ecs.LogDrivers.awsLogs({ logGroup: keeperLogGroup(scope, options.logRetention), streamPrefix: 'pool-keeper' }),
    stopTimeout: Duration.seconds(120),
    // A keeper that crashed restarts in place; one that exits 0 stopped on purpose (its manager is draining).
    enableRestartPolicy: true,
    restartIgnoredExitCodes: [0],
    restartAttemptPeriod: Duration.seconds(60),
  });
  keeper.addMountPoints(mount);
  keeper.addContainerDependencies({ container: prepare, condition: ecs.ContainerDependencyCondition.SUCCESS });
  return keeper;
}

/**
 * Waits for the manager container's first render of the driver TOML (polling once a second: the only thing to wait
 * for is another container's file), takes the manager's ID (its ECS task ID, the
 * pool tasks' `gitlab-fargate:manager` tag) the way the manager's entrypoint does, then becomes the keeper.
 */
function keeperScript(): string {
  return [
    // Readable, not only there: the entrypoint renders it as root (0600) and then hands it to the runner's user.
    `until [ -r ${POOL_DRIVER_CONFIG} ] && [ -s ${POOL_DRIVER_CONFIG} ]; do sleep 1; done`,
    'GITLAB_FARGATE_MANAGER_ID=$(gitlab-fargate-manager manager-id) || exit 1',
    'export GITLAB_FARGATE_MANAGER_ID',
    `exec gitlab-fargate-driver pool keep --config ${POOL_DRIVER_CONFIG}`,
  ].join('\n');
}

function keeperLogGroup(scope: Construct, retention: logs.RetentionDays): logs.LogGroup {
  const existing = scope.node.tryFindChild('Pool Keeper Logs');
  return (existing as logs.LogGroup | undefined) ?? new logs.LogGroup(scope, 'Pool Keeper Logs', { retention });
}
