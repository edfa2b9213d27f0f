#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { MAIN_HELP } from './cli/help.js';
import { EXIT, processOutput, type Output } from './cli/output.js';
import { UsageError } from './cli/usage-error.js';

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, output: Output): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Each command loads only its own modules: validate runs at every container start and in hooks.
      case 'validate':
        return await (await import('./cli/validate-command.js')).validateCommand(rest, output);
      case 'render':
        return await (await import('./cli/render-command.js')).renderCommand(rest, env, output);
      case '--version':
        output.out(`${version()}\n`);
        return EXIT.ok;
      case '--help':
      case '-h':
      case 'help':
        output.out(MAIN_HELP);
        return EXIT.ok;
      case undefined:
        output.err(MAIN_HELP);
        return EXIT.invalid;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`gitlab-fargate-config: ${error.message}\nRun "gitlab-fargate-config --help" for usage.\n`);
      return EXIT.invalid;
    }
    output.err(`gitlab-fargate-config: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env, processOutput);
