import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSuite, renderTable, targetsTable } from './report/format.js';
import { LoadSampler, machineInfo, type LoadSummary, type MachineInfo } from './report/machine.js';
import { SUITE_IDS, type SuiteId, type SuiteResult, type TargetCheck } from './report/types.js';
import { startBenchStack } from './stack/bench-stack.js';
import { concurrencySuite } from './suites/concurrency.js';
import { FULL_SETTINGS, SMOKE_SETTINGS, type BenchSettings, type SuiteContext } from './suites/context.js';
import { jobImageSuite } from './suites/job-image.js';
import { jobOverheadSuite } from './suites/job-overhead.js';
import { logThroughputSuite } from './suites/log-throughput.js';
import { memorySuite } from './suites/memory.js';
import { runSummarySuite } from './suites/run-summary.js';
import { warmPoolSuite } from './suites/warm-pool.js';
import { startupSuite } from './suites/startup.js';

/** The repository checkout this package lives in (for the driver's commit). */
const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const driverPackage = join(repositoryRoot, 'packages', 'driver');
/** What the bench runs as "the driver": the split bundle, which loads the AWS SDK and ssh2 only in the stages that use them. */
const DRIVER_BUNDLE = { args: ['scripts/bundle.mjs', '--split'], command: 'node scripts/bundle.mjs --split', entry: 'dist/bundle/gitlab-fargate-driver.mjs' };

const SUITES: Record<SuiteId, (ctx: SuiteContext) => Promise<SuiteResult>> = {
  startup: startupSuite,
  'job-overhead': jobOverheadSuite,
  'log-throughput': logThroughputSuite,
  memory: memorySuite,
  concurrency: concurrencySuite,
  'run-summary': runSummarySuite,
  'job-image': jobImageSuite,
  'warm-pool': warmPoolSuite,
};

/** Options of {@link runBench}. */
export interface BenchOptions {
  /**
   * Tiny iteration counts: checks every suite works (CI), measures nothing worth quoting.
   * @default false
   */
  readonly smoke?: boolean;
  /** Suites to run, in their fixed order. @default all of SUITE_IDS */
  readonly only?: readonly SuiteId[];
  /** Progress lines (stderr in the CLI). @default none */
  readonly onProgress?: (message: string) => void;
}

/** Everything one run measured, as written to the JSON file. */
export interface BenchReport {
  readonly date: string;
  readonly command: string;
  readonly mode: 'full' | 'smoke';
  readonly settings: BenchSettings;
  readonly machine: MachineInfo;
  /** One-minute load average while the benchmark ran (the machine is shared). */
  readonly load: LoadSummary;
  readonly suites: readonly SuiteResult[];
  readonly targets: readonly TargetCheck[];
  readonly seconds: number;
}

/**
 * Runs the benchmark suites against one local stack (Docker, job image, ECS emulator behind a counting proxy) and
 * returns their tables and figures. Every figure is a ratio or comparison measured in the same run.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  const settings = options.smoke ? SMOKE_SETTINGS : FULL_SETTINGS;
  const selected = SUITE_IDS.filter((id) => !options.only || options.only.includes(id));
  const load = new LoadSampler();
  const machine = machineInfo(repositoryRoot);
  progress(`Bundling the driver as the runner-manager image ships it (${DRIVER_BUNDLE.command})`);
  execFileSync(process.execPath, DRIVER_BUNDLE.args, { cwd: driverPackage, stdio: 'ignore' });
  progress('Starting the local stack (Docker, job image, ECS emulator, counting proxy)');
  const bench = await startBenchStack(progress, join(driverPackage, DRIVER_BUNDLE.entry), { jobImages: selected.includes('job-image') });
  const suites: SuiteResult[] = [];
  try {
    for (const id of selected) {
      const result = await SUITES[id]({ settings, bench, progress });
      progress(`${id}: done in ${result.seconds.toFixed(1)} s`);
      suites.push(result);
    }
  } finally {
    // A failing teardown must not throw away minutes of measurements: say so and keep the results.
    await bench.stop().catch((error: Error) => progress(`warning: stopping the local stack failed: ${error.message}`));
  }
  return {
    date: new Date().toISOString(),
    command: ['gitlab-fargate-bench', ...process.argv.slice(2)].join(' '),
    mode: options.smoke ? 'smoke' : 'full',
    settings,
    machine,
    load: load.stop(),
    suites,
    targets: suites.flatMap((s) => s.targets),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The report as Markdown: machine, every suite's tables, and the targets. */
export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const head = [
    `# gitlab-fargate benchmarks (${report.mode})`,
    '',
    `- date: ${report.date}; command: \`${report.command}\`; ${report.seconds.toFixed(0)} s`,
    `- machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}` +
      `${m.docker ? `, Docker ${m.docker}` : ''}`,
    `- load average (1 min) during the run: min ${report.load.min}, mean ${report.load.mean}, max ${report.load.max} (${report.load.samples} samples)`,
    ...(m.driverCommit ? [`- driver: ${m.driverCommit}`] : []),
    `- driver build: the split esbuild bundle the runner-manager image runs (\`${DRIVER_BUNDLE.command}\` → ${DRIVER_BUNDLE.entry})`,
    '',
  ];
  return [...head, ...report.suites.map(renderSuite), '## Targets', '', renderTable(targetsTable(report.targets)), ''].join('\n');
}

/** Writes a file, creating its folder. */
export async function writeOutput(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
