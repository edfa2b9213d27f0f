import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DriverConfig, loadDriverConfig } from '@gitlab-fargate/config';
import { type KeeperContext, NO_METRICS, PoolKeeper, createLogger, listPoolEntries, readJobEnvironment, sshTransport } from '@gitlab-fargate/driver';
import { DEFAULT_PHASES } from '@gitlab-fargate/ecs-emulator';
import { median } from '../measure/stats.js';
import { runTimed, type TimedProcessResult } from '../measure/timed-process.js';
import { fmt } from '../report/format.js';
import type { SuiteResult, Table, TargetCheck } from '../report/types.js';
import type { BenchStack } from '../stack/bench-stack.js';
import { DriverJob } from '../stack/driver-job.js';
import type { SuiteContext } from './context.js';

/** The bench's pool: the keeper refills it before each warm prepare, outside the timed window. */
const POOL = 'bench-warm';
const MANAGER = 'bench-warm-pool';
/** Issue 13's targets for the whole `custom prepare` call of a warm job. */
const WARM_OVER_COLD_TARGET = 0.3;
const WARM_OVER_NODE_TARGET = 5;

const poolTable = (idleCount: number): string => `\n[[Pool]]\nName = "${POOL}"\nIdleCount = ${idleCount}\nMaxIdle = ${Math.max(idleCount, 1)}\n`;

/** What one run of the suite measured: whole `custom prepare` processes, and `node -e 0` between them (ms). */
interface Measured {
  readonly warmMs: number[];
  readonly coldMs: number[];
  readonly nodeMs: number[];
  /** The in-task lock's time as the warm prepare's own job-log line states it. */
  readonly lockMs: number[];
  /** Prepare's spawn → the first byte of a `build_script` run stage (the Node driver, through the multiplexer). */
  readonly warmFirstByteMs: number[];
  readonly coldFirstByteMs: number[];
}

/** The keeper as the manager runs it, in this process, on the bench's stack (no EC2, no metrics). */
function keeper(bench: BenchStack, config: DriverConfig): PoolKeeper {
  const ctx: KeeperContext = {
    config,
    root: config.poolDefaults.directory as string,
    env: readJobEnvironment(bench.stack.env),
    managerId: MANAGER,
    clients: { ecs: bench.stack.ecs, ec2: async () => Promise.reject(new Error('no EC2 in the bench')) },
    transport: sshTransport,
    log: createLogger({ level: 'warn', sink: { write: () => {} }, progress: { write: () => {} } }),
    signal: new AbortController().signal,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: Date.now,
    metrics: NO_METRICS,
  };
  return new PoolKeeper(ctx);
}

/** The driver TOML with the pool (the warm jobs') and a copy without it (the cold jobs'), and how to put things back. */
interface PoolConfigs {
  readonly withPool: DriverConfig;
  /** The same driver TOML without `[[Pool]]`: a job with it always starts cold. */
  readonly coldConfigPath: string;
  restore(): void;
}

async function poolConfigs(bench: BenchStack, idleCount: number): Promise<PoolConfigs> {
  const path = bench.stack.driverConfigPath;
  const original = readFileSync(path, 'utf8');
  const coldConfigPath = join(dirname(path), 'driver-cold.toml');
  writeFileSync(coldConfigPath, original, { mode: 0o600 });
  writeFileSync(path, `${original}${poolTable(idleCount)}`, { mode: 0o600 });
  const restore = (): void => {
    writeFileSync(path, original, { mode: 0o600 });
    rmSync(coldConfigPath, { force: true });
  };
  try {
    return { withPool: (await loadDriverConfig(path)).config, coldConfigPath, restore };
  } catch (error) {
    restore();
    throw error;
  }
}

/** One job's whole `custom prepare` and how long until its first script byte, from prepare's spawn (ms). */
interface PreparedJob {
  readonly prepare: TimedProcessResult;
  readonly firstByteMs: number;
}

/**
 * One job's whole `custom prepare`, then a `build_script` run stage (the Node driver) for the first script byte, then
 * its cleanup (not timed); throws unless it started as `warm` says.
 */
async function timedPrepare(job: DriverJob, warm: boolean): Promise<PreparedJob> {
  try {
    const spawned = Date.now();
    const prepare = await job.prepare();
    const said = `${prepare.stdoutHead}${prepare.stderr}`;
    if (/Warm start: took idle task/.test(said) !== warm) {
      throw new Error(`warm-pool: a ${warm ? 'warm' : 'cold'} prepare started ${warm ? 'cold' : 'warm'}:\n${said.slice(-3000)}`);
    }
    const run = await job.run(job.script('first', 'echo first'), 'build_script');
    if (run.exitCode !== 0) throw new Error(`warm-pool: the run stage exited ${run.exitCode}: ${run.stderr.slice(-2000)}`);
    return { prepare, firstByteMs: run.firstByteAt - spawned };
  } finally {
    await job.driver(['cleanup']).catch(() => undefined);
    job.dispose();
  }
}

/** The in-task lock's ms from a warm prepare's `Warm start: … in-task lock N ms` line. */
function lockMsOf(prepare: TimedProcessResult): number {
  return Number(/in-task lock (\d+) ms/.exec(`${prepare.stdoutHead}${prepare.stderr}`)?.[1] ?? Number.NaN);
}

/** Warm and cold prepares alternating, the pool refilled before each warm one, `node -e 0` after each pair. */
async function measurePrepares(ctx: SuiteContext, configs: PoolConfigs): Promise<Measured> {
  const { bench, settings } = ctx;
  const poolKeeper = keeper(bench, configs.withPool);
  const root = configs.withPool.poolDefaults.directory as string;
  const coldBench: BenchStack = { ...bench, stack: { ...bench.stack, driverConfigPath: configs.coldConfigPath } };
  const measured: Measured = { warmMs: [], coldMs: [], nodeMs: [], lockMs: [], warmFirstByteMs: [], coldFirstByteMs: [] };
  for (let i = 0; i < settings.warmPrepares; i += 1) {
    ctx.progress(`warm-pool: warm and cold prepare ${i + 1}/${settings.warmPrepares}`);
    await poolKeeper.cycle();
    if (!listPoolEntries(root, POOL).some((e) => e.state === 'ready')) throw new Error(`warm-pool: the keeper left no ready task in ${root}`);
    const warm = await timedPrepare(new DriverJob(bench), true);
    measured.warmMs.push(warm.prepare.ms);
    measured.lockMs.push(lockMsOf(warm.prepare));
    measured.warmFirstByteMs.push(warm.firstByteMs);
    const cold = await timedPrepare(new DriverJob(coldBench), false);
    measured.coldMs.push(cold.prepare.ms);
    measured.coldFirstByteMs.push(cold.firstByteMs);
    for (let k = 0; k < 3; k += 1) measured.nodeMs.push((await runTimed(process.execPath, ['-e', '0'])).ms);
  }
  return measured;
}

/** Stops every pool task (IdleCount 0) and removes the pool directory. */
async function drainPool(bench: BenchStack, config: DriverConfig): Promise<void> {
  const empty: DriverConfig = { ...config, pools: config.pools.map((pool) => ({ ...pool, idleCount: 0, policies: [] })) };
  await keeper(bench, empty).cycle();
  rmSync(config.poolDefaults.directory as string, { recursive: true, force: true });
}

function figuresOf(m: Measured): Record<string, number> {
  const warmMs = median(m.warmMs);
  const coldMs = median(m.coldMs);
  const nodeMs = median(m.nodeMs);
  return {
    prepares: m.warmMs.length, warmPrepareMs: warmMs, coldPrepareMs: coldMs, nodeMs, lockMs: median(m.lockMs),
    warmFirstByteMs: median(m.warmFirstByteMs), coldFirstByteMs: median(m.coldFirstByteMs),
    warmOverCold: warmMs / coldMs, warmOverNode: warmMs / nodeMs,
  };
}

function prepareTable(f: Record<string, number>): Table {
  const n = (key: string, digits = 0) => fmt(f[key] ?? Number.NaN, digits);
  return {
    title: `Warm against cold prepare (${n('prepares')} of each, alternating, emulator phases 0 ms; medians)`,
    columns: ['', 'ms', 'ratio', 'target'],
    rows: [
      ['warm prepare (whole custom prepare: claim, in-task lock, multiplexer)', n('warmPrepareMs'), '', ''],
      [`  of which the in-task lock (its job-log line)`, n('lockMs'), '', ''],
      ['cold prepare (whole custom prepare: RunTask, wait, SSH)', n('coldPrepareMs'), '', ''],
      ['warm: prepare spawned → first script byte (a Node build_script stage)', n('warmFirstByteMs'), '', ''],
      ['cold: prepare spawned → first script byte (a Node build_script stage)', n('coldFirstByteMs'), '', ''],
      ['node -e 0 (between the pairs)', n('nodeMs'), '', ''],
      ['warm / cold', '', `${n('warmOverCold', 2)}×`, `≤ ${WARM_OVER_COLD_TARGET}× ${met(f.warmOverCold, WARM_OVER_COLD_TARGET)}`],
      ['warm / node -e 0', '', `${n('warmOverNode', 1)}×`, `≤ ${WARM_OVER_NODE_TARGET}× ${met(f.warmOverNode, WARM_OVER_NODE_TARGET)}`],
    ],
    notes: [
      `The keeper (in the bench's process) fills pool ${POOL} before each warm prepare; each job's cleanup stops its task.`,
      'Cold here is the least favourable comparison: the emulator\'s phases are 0 ms, so a cold prepare is RunTask, the',
      'container start on this machine and the SSH probe. A real Fargate cold start takes 20–70 s (image pull, ENI),',
      'which a warm prepare skips entirely: on AWS the warm/cold ratio is about 100× smaller than here.',
    ],
  };
}

function met(value: number | undefined, target: number): string {
  return (value ?? Number.NaN) <= target ? '(met)' : '(missed)';
}

function warmTargets(f: Record<string, number>): TargetCheck[] {
  const { warmOverCold = Number.NaN, warmOverNode = Number.NaN } = f;
  const ms = `${fmt(f.warmPrepareMs ?? Number.NaN)} ms warm`;
  return [
    {
      name: 'warm prepare against cold', target: `≤ ${WARM_OVER_COLD_TARGET}× cold prepare`, measured: `${fmt(warmOverCold, 2)}×`,
      met: warmOverCold <= WARM_OVER_COLD_TARGET,
      note: `${ms}, ${fmt(f.coldPrepareMs ?? Number.NaN)} ms cold with the emulator's phases at 0 (Fargate's cold start is 20–70 s)`,
    },
    {
      name: 'warm prepare against node -e 0', target: `≤ ${WARM_OVER_NODE_TARGET}× node -e 0`, measured: `${fmt(warmOverNode, 1)}×`,
      met: warmOverNode <= WARM_OVER_NODE_TARGET,
      note: `${ms} (in-task lock ${fmt(f.lockMs ?? Number.NaN)} ms), node -e 0 ${fmt(f.nodeMs ?? Number.NaN)} ms: ` +
        "prepare's own Node start-up, modules and planning, the claim (a rename), the lock on its own SSH connection, " +
        "the wait for the multiplexer to listen",
    },
  ];
}

/**
 * Issue 13's benchmark: in one run, a pool the keeper fills on the emulator, whole warm `custom prepare` calls
 * alternating with cold ones, and `node -e 0`. Nothing is left afterwards (tasks stopped, pool directory removed).
 */
export async function warmPoolSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const { bench } = ctx;
  const configs = await poolConfigs(bench, 1);
  const zero = { provisioningMs: 0, pendingMs: 0, activatingMs: 0, deactivatingMs: 0, deprovisioningMs: 0, registrationMs: 0 };
  bench.stack.emulator.setPhases(zero);
  let measured: Measured;
  try {
    measured = await measurePrepares(ctx, configs);
  } finally {
    await drainPool(bench, configs.withPool);
    configs.restore();
    bench.stack.emulator.setPhases(DEFAULT_PHASES);
  }
  const figures = figuresOf(measured);
  return {
    id: 'warm-pool',
    title: 'Warm pool: a warm prepare against a cold one',
    tables: [prepareTable(figures)],
    targets: warmTargets(figures),
    figures: Object.fromEntries(Object.entries(figures).filter(([, value]) => Number.isFinite(value))),
    seconds: (performance.now() - started) / 1000,
  };
}
