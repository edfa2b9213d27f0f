import { parseArgs } from 'node:util';
import { SUITE_IDS, type SuiteId } from './report/types.js';

/** What the command line asked for. */
export interface CliArgs {
  readonly help: boolean;
  readonly smoke: boolean;
  readonly only?: readonly SuiteId[];
  /** JSON result file. */
  readonly out: string;
  /** Markdown report file, when asked for. */
  readonly markdown?: string;
  /** Folder for the SVG charts, when asked for. */
  readonly charts?: string;
  /** A results file to report on instead of running the suites. */
  readonly from?: string;
}

/** Bad command-line input: printed with the usage hint, exit 3, nothing runs. */
export class UsageError extends Error {}

export const USAGE = `Usage: gitlab-fargate-bench [--smoke] [--only SUITES] [--out FILE] [--markdown FILE] [--charts DIR]
       gitlab-fargate-bench --from FILE [--markdown FILE] [--charts DIR]

Benchmarks the gitlab-fargate driver against a local stack (Docker, the ci-coordinator image, the ECS emulator
with AWS's throttling on) and prints one table per suite. Every figure is a ratio or a comparison measured in
the same run, so it holds on a noisy machine.

Suites (in this order): ${SUITE_IDS.join(', ')}
  startup         wall time and peak RSS of custom config / run / cleanup vs node -e 0 (median of 21)
  job-overhead    driver overhead of a whole job (phases 0, container start subtracted) and readiness lag
  log-throughput  MB/s through custom run vs OpenSSH (/usr/bin/ssh) on the same container
  memory          peak RSS of custom run streaming 50 MiB (fast and slow reader)
  concurrency     50 jobs at once: success, prepare p50/p95, ECS calls per job, throttling
  run-summary     what the job log's timeline and cost line add to the stage that prints them (median of 21)
  job-image       an image: job against the same plain job: prepare, RunTask → first script byte, overhead (ratios)
  warm-pool       warm prepares from a keeper-filled pool against cold ones and node -e 0 (alternating, medians)

Options:
  --smoke            tiny iteration counts (CI: every table produced, figures not worth quoting)
  --only SUITES      comma-separated suites to run (default: all)
  --out FILE         JSON result (default: tools/bench/results/latest.json; smoke: results/smoke.json)
  --markdown FILE    also write the report as Markdown
  --charts DIR       also draw the run as SVG charts in DIR (targets.svg, startup.svg)
  --from FILE        run nothing: report on a results file an earlier run wrote (with --markdown, --charts)
  -h, --help         this text

Exit status: 0 the benchmark ran (targets missed or not: see the Targets table), 1 it failed, 3 bad arguments.
Needs Docker (tools/docker/ensure-engine) and the OpenSSH client at /usr/bin/ssh.`;

export function parseCliArgs(argv: readonly string[], defaultOut: (smoke: boolean) => string): CliArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        smoke: { type: 'boolean' },
        only: { type: 'string' },
        out: { type: 'string' },
        markdown: { type: 'string' },
        charts: { type: 'string' },
        from: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let only: SuiteId[] | undefined;
  if (values.only !== undefined) {
    only = [];
    for (const name of values.only.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!(SUITE_IDS as readonly string[]).includes(name)) {
        throw new UsageError(`--only: unknown suite "${name}"; choose from ${SUITE_IDS.join(', ')}`);
      }
      only.push(name as SuiteId);
    }
    if (only.length === 0) throw new UsageError(`--only needs at least one suite: ${SUITE_IDS.join(', ')}`);
  }
  for (const key of ['out', 'markdown', 'charts', 'from'] as const) {
    if (values[key] !== undefined && values[key].trim() === '') throw new UsageError(`--${key} needs a path`);
  }
  if (values.from !== undefined && (values.smoke === true || values.only !== undefined || values.out !== undefined)) {
    throw new UsageError('--from reports on an earlier run: it takes only --markdown and --charts, not --smoke, --only or --out');
  }
  const smoke = values.smoke ?? false;
  return {
    help: values.help ?? false,
    smoke,
    ...(only ? { only } : {}),
    out: values.out ?? defaultOut(smoke),
    ...(values.markdown !== undefined ? { markdown: values.markdown } : {}),
    ...(values.charts !== undefined ? { charts: values.charts } : {}),
    ...(values.from !== undefined ? { from: values.from } : {}),
  };
}
