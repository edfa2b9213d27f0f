#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './args.js';
import { renderReport, runBench, writeOutput, type BenchReport } from './bench.js';
import { renderCharts } from './report/charts.js';
import { loadReport, ResultsFileError } from './report/load-report.js';

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2), (smoke) => resolve(resultsDir, smoke ? 'smoke.json' : 'latest.json'));
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error.message);
    throw error;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let report: BenchReport;
  if (args.from !== undefined) {
    try {
      report = loadReport(args.from);
    } catch (error) {
      if (error instanceof ResultsFileError) return usageFailure(error.message);
      throw error;
    }
  } else {
    if (!existsSync('/usr/bin/ssh')) {
      return usageFailure('the OpenSSH client is missing at /usr/bin/ssh (the throughput reference); install it: apt-get install openssh-client');
    }
    report = await runAndSave(args);
  }
  await writeReports(report, args);
  return 0;
}

function usageFailure(message: string): number {
  process.stderr.write(`gitlab-fargate-bench: ${message}\nRun gitlab-fargate-bench --help for usage.\n`);
  return 3;
}

async function runAndSave(args: CliArgs): Promise<BenchReport> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const report = await runBench({
    smoke: args.smoke,
    ...(args.only ? { only: args.only } : {}),
    onProgress: (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  });
  await writeOutput(args.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`JSON written to ${args.out}\n`);
  return report;
}

/** The tables on stdout, and the Markdown and the charts where asked. */
async function writeReports(report: BenchReport, args: CliArgs): Promise<void> {
  const markdown = renderReport(report);
  process.stdout.write(`${markdown}\n`);
  if (args.markdown) {
    await writeOutput(args.markdown, markdown);
    process.stderr.write(`Markdown written to ${args.markdown}\n`);
  }
  if (args.charts) {
    for (const chart of renderCharts(report)) {
      await writeOutput(join(args.charts, chart.name), chart.svg);
      process.stderr.write(`Chart written to ${join(args.charts, chart.name)}: ${chart.title}\n`);
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gitlab-fargate-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
