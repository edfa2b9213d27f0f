#!/usr/bin/env node
import { parseDemoArgs, UsageError, usage } from './args.js';
import { runDemo } from './demo.js';

// The SDK warns about Node 20 on every client it creates; the demo's reader cannot act on it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let command;
  try {
    command = parseDemoArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`gitlab-fargate-demo: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }

  // First Ctrl-C: cancel the running job (the driver's cleanup still runs) and remove everything. Second: leave now;
  // the next emulator start removes the containers this process leaves behind.
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) {
      process.stderr.write(`\ngitlab-fargate-demo: ${signal} again, exiting without cleaning up\n`);
      process.exit(130);
    }
    process.stderr.write(`\ngitlab-fargate-demo: ${signal}: cancelling the job and removing everything (${signal} again to exit at once)\n`);
    cancel.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const result = await runDemo({ seconds: command.seconds, verbose: command.verbose, signal: cancel.signal });
    if (cancel.signal.aborted) return 130;
    return result.passed ? 0 : 1;
  } catch (error) {
    process.stderr.write(`gitlab-fargate-demo: ${(error as Error).message}\n`);
    return cancel.signal.aborted ? 130 : 1;
  }
}

process.exitCode = await main();
