import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CommandResult } from './docker.js';
import { PACKAGE_DIR } from './paths.js';

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

/** Runs the CLI from source (no compile step needed), as a user would run the bin. */
export function runCli(args: readonly string[], cwd = PACKAGE_DIR): CommandResult {
  const result = spawnSync(process.execPath, [tsxCli, join(PACKAGE_DIR, 'src/cli.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
