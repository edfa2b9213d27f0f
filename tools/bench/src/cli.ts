#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './args.js';
import { renderReport, runBench, writeOutput } from './bench.js';

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2), (smoke) => resolve(resultsDir, smoke ? 'smoke.json' : 'latest.json'));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`gitlab-fargate-bench: ${error.message}\nRun gitlab-fargate-bench --help for usage.\n`);
      return 3;
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!existsSync('/usr/bin/ssh')) {
    process.stderr.write('gitlab-fargate-bench: the OpenSSH client is missing at /usr/bin/ssh (the throughput reference); install it: apt-get install openssh-client\n');
    return 3;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const report = await runBench({
    smoke: args.smoke,
    ...(args.only ? { only: args.only } : {}),
    onProgress: (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  });
  const markdown = renderReport(report);
  process.stdout.write(`${markdown}\n`);
  await writeOutput(args.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`JSON written to ${args.out}\n`);
  if (args.markdown) {
    await writeOutput(args.markdown, markdown);
    process.stderr.write(`Markdown written to ${args.markdown}\n`);
  }
  return 0;
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
