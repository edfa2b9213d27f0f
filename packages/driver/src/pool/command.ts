import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { DriverConfig } from '@gitlab-fargate/config';
import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { messageOf } from '../errors.js';
import { readJobEnvironment } from '../job/environment.js';
import { type Logger, createLogger, fdSink, parseLogFormat, parseLogLevel } from '../log.js';
import { sleep as defaultSleep } from '../sleep.js';
import { sshTransport } from '../ssh/connect.js';
import type { KeeperContext } from './context.js';
import { PoolKeeper } from './keeper.js';
import { lockPoolDirectory } from './keeper-lock.js';
import { NO_METRICS, PrometheusRegistry, serveMetrics } from './metrics.js';
import { formatPoolStatus, poolStatus } from './status.js';

export const POOL_HELP = `Usage: gitlab-fargate-driver pool keep [--once] [--config PATH]
       gitlab-fargate-driver pool status [--json] [--config PATH]

keep    The warm-pool keeper: every [PoolSettings] ReconcileInterval seconds, for each [[Pool]] of the driver TOML,
        retire idle tasks past their idle deadline (less ClaimMargin), past MaxAge or started under another
        configuration, drop the ones ECS reports stopped (one DescribeTasks per 100), stop this manager's pool tasks
        that no entry names (gc; all of them when the pool directory was lost), and start tasks up to the policy's
        IdleCount (at most MaxIdle), each with its own SSH key and GITLAB_FARGATE_IDLE_DEADLINE. Re-reads the TOML
        when it changes (a bad one is logged and the last good one kept). Runs until SIGTERM, SIGINT or SIGQUIT (the
        runner-manager image's stop signal): it stops filling, fills in flight stop their tasks, then it stops every
        unclaimed idle task and exits, within 90 s. It does the same, exit code 0, when the manager controller has
        tagged its manager task gitlab-fargate:drain-started; --once runs one cycle. Serves Prometheus metrics on
        [PoolSettings] MetricsPort when set. Exit code 0, or 1 on bad configuration or a failed --once.
status  Prints each pool's ready, pending, claimed and draining counts from the pool directory (no AWS call);
        --json prints {"pools":[{"name","ready","pending","claimed","draining","nextDeadline"?}]}.

Reads the runner's identity (GITLAB_FARGATE_RUNNER_SHORT_TOKEN, the tasks' startedBy) and GITLAB_FARGATE_MANAGER_ID
(the gitlab-fargate:manager tag; outside ECS: host-<hostname>) from the environment.
--config defaults to config.toml, as for the stages.`;

/** Where the command writes, and its cancel signal. */
export interface PoolIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stderrFd: number;
  readonly signal: AbortSignal;
}

interface PoolArgs {
  readonly verb: 'keep' | 'status';
  readonly once: boolean;
  readonly json: boolean;
  readonly config: string;
}

/** Runs `pool ARGS...`. Bad arguments and configuration are refused before any AWS call. */
export async function poolCommand(argv: readonly string[], io: PoolIo, clients?: AwsClients): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${POOL_HELP}\n`);
    return 0;
  }
  try {
    const args = parsePoolArgs(argv);
    const config = await loadPoolConfig(resolve(io.cwd, args.config));
    const root = config.poolDefaults.directory;
    if (args.verb === 'status') {
      const status = poolStatus(config, root ?? '');
      io.stdout.write(args.json ? `${JSON.stringify(status)}\n` : formatPoolStatus(status));
      return 0;
    }
    if (root === undefined || config.pools.length === 0) throw new Error('no [[Pool]] is configured: nothing to keep');
    return await keep(io, args, config, root, clients);
  } catch (error) {
    io.stderr.write(`gitlab-fargate-driver: pool: ${messageOf(error)}\n`);
    return 1;
  }
}

function parsePoolArgs(argv: readonly string[]): PoolArgs {
  const [verb, ...rest] = argv;
  if (verb !== 'keep' && verb !== 'status') throw new Error(`expected "pool keep" or "pool status", found ${JSON.stringify(argv.join(' '))} (see pool --help)`);
  let config = 'config.toml';
  let once = false;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--once' && verb === 'keep') once = true;
    else if (arg === '--json' && verb === 'status') json = true;
    else if (arg === '--config' && rest[i + 1] !== undefined) config = rest[++i]!;
    else if (arg.startsWith('--config=')) config = arg.slice('--config='.length);
    else throw new Error(`pool ${verb}: unknown argument ${JSON.stringify(arg)} (see pool --help)`);
  }
  return { verb, once, json, config };
}

async function loadPoolConfig(path: string): Promise<DriverConfig> {
  const { ConfigError, formatIssues, loadDriverConfig } = await import('@gitlab-fargate/config');
  try {
    return (await loadDriverConfig(path)).config;
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`invalid driver configuration:\n${formatIssues(error.issues)}`);
    throw new Error(`cannot read the driver configuration ${path}: ${messageOf(error)}`);
  }
}

/**
 * The keeper stops within this many milliseconds of its stop signal: fills in flight stop their tasks, then
 * {@link PoolKeeper.drain} stops the idle ones. Below Fargate's longest container stopTimeout (120 s), so ECS never
 * has to SIGKILL a keeper that is still draining.
 */
export const KEEPER_SHUTDOWN_BUDGET_MS = 90_000;

/** The keeper loop: a cycle, then a wait that a stop signal cuts short; a failed cycle is logged and retried. */
async function keep(io: PoolIo, args: PoolArgs, config: DriverConfig, root: string, clients?: AwsClients): Promise<number> {
  const env = readJobEnvironment(io.env);
  const stop = stopSignal(io.signal);
  const registry = config.poolDefaults.metricsPort === undefined ? undefined : new PrometheusRegistry();
  const server = registry === undefined ? undefined : await serveMetrics(registry, config.poolDefaults.metricsPort!);
  const log = createLogger({ level: parseLogLevel(config.logLevel) ?? 'info', format: parseLogFormat(config.logFormat) ?? 'text', sink: fdSink(io.stderrFd), progress: fdSink(io.stderrFd), fields: { command: 'pool_keep' } });
  const ctx: KeeperContext = {
    config, root, env, log, signal: stop.signal, sleep: defaultSleep, now: Date.now, transport: sshTransport,
    managerId: env.managerId ?? `host-${hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 59)}`,
    clients: clients ?? createAwsClients(config.fargate.region),
    metrics: registry ?? NO_METRICS,
  };
  // Without the runner's identity the pool tasks' startedBy would not be the runner's: say so, as prepare does.
  env.warnings.forEach((warning) => log.warn(warning));
  const keeper = new PoolKeeper(ctx);
  const reload = configReloader(resolve(io.cwd, args.config), config, root, log);
  const unlock = lockPoolDirectory(root);
  let unwatch = (): void => {};
  try {
    unwatch = keeper.watchClaims();
    for (;;) {
      const changed = await reload();
      if (changed !== undefined) {
        unwatch();
        keeper.reconfigure(changed);
        unwatch = keeper.watchClaims();
      }
      try {
        const report = await keeper.cycle();
        io.stdout.write(`${JSON.stringify({ cycle: report })}\n`);
      } catch (error) {
        if (stop.signal.aborted) break;
        log.error(`pool cycle failed: ${messageOf(error)}`);
        if (args.once) return 1;
      }
      if (args.once || stop.signal.aborted) break;
      if (await keeper.managerDraining()) {
        log.info(`manager ${ctx.managerId} is draining (its gitlab-runner takes no new job): stopping the idle tasks and exiting`);
        await drainWithin(keeper, log, KEEPER_SHUTDOWN_BUDGET_MS);
        return 0;
      }
      await defaultSleep(reload.interval() * 1000, stop.signal).catch(() => {});
      if (stop.signal.aborted) break;
    }
    if (stop.signal.aborted) await drainWithin(keeper, log, stop.deadlineMs() - Date.now());
    return 0;
  } finally {
    unwatch();
    stop.dispose();
    unlock();
    server?.close();
    log.close();
  }
}

/**
 * The keeper's stop: the command's signal (SIGTERM, SIGINT) or SIGQUIT, which the runner-manager image's STOPSIGNAL
 * makes the signal ECS sends a container of that image (tini forwards it). Notes when it came, for the drain budget.
 */
function stopSignal(signal: AbortSignal): { signal: AbortSignal; deadlineMs: () => number; dispose: () => void } {
  const quit = new AbortController();
  const onQuit = () => quit.abort(new Error('SIGQUIT'));
  process.on('SIGQUIT', onQuit);
  const combined = AbortSignal.any([signal, quit.signal]);
  let stoppedAt: number | undefined;
  combined.addEventListener('abort', () => (stoppedAt = Date.now()), { once: true });
  if (combined.aborted) stoppedAt = Date.now();
  return {
    signal: combined,
    deadlineMs: () => (stoppedAt ?? Date.now()) + KEEPER_SHUTDOWN_BUDGET_MS,
    dispose: () => process.off('SIGQUIT', onQuit),
  };
}

/** Stops the idle tasks, for at most `budgetMs`; what is left is the next keeper's (and the tasks' own deadlines'). */
async function drainWithin(keeper: PoolKeeper, log: Logger, budgetMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, budgetMs));
  });
  try {
    const result = await Promise.race([keeper.drain(), outOfTime]);
    if (result === 'timeout') log.warn(`stopping: the drain did not finish within ${Math.round(budgetMs / 1000)} s; the next keeper stops what is left`);
    else log.info(`stopping: ${result} idle pool task(s) stopped`);
  } catch (error) {
    log.warn(`stopping: the drain failed; the next keeper stops what is left: ${messageOf(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Re-reads the driver TOML when its modification time changes (the runner-manager image re-renders it in place when
 * its settings parameter changes): a pool change needs no keeper restart. An invalid file is logged and the last
 * good configuration kept; a changed `[PoolSettings] Directory` or `MetricsPort` takes a restart, and says so.
 */
type Reloader = (() => Promise<DriverConfig | undefined>) & { interval: () => number };

function configReloader(path: string, initial: DriverConfig, root: string, log: Logger): Reloader {
  let current = initial;
  let seen = modifiedAt(path);
  const reload = async (): Promise<DriverConfig | undefined> => {
    const now = modifiedAt(path);
    if (now === seen) return undefined;
    seen = now;
    try {
      const next = await loadPoolConfig(path);
      if (next.poolDefaults.directory !== root) log.warn(`[PoolSettings] Directory changed to ${next.poolDefaults.directory}: this keeper keeps ${root} until it restarts`);
      if (next.poolDefaults.metricsPort !== current.poolDefaults.metricsPort) log.warn('[PoolSettings] MetricsPort changed: it applies when the keeper restarts');
      log.info(`reloaded ${path}: ${next.pools.map((p) => p.name).join(', ') || 'no pool'}`);
      current = next;
      return next;
    } catch (error) {
      log.error(`kept the previous configuration: ${messageOf(error)}`);
      return undefined;
    }
  };
  return Object.assign(reload, { interval: () => current.poolDefaults.reconcileInterval });
}

function modifiedAt(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
}
