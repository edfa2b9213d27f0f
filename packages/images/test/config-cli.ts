import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_PACKAGE_DIR } from './paths.js';

/**
 * Checks that @gitlab-fargate/config's compiled CLI exists and has the `render` command the runner-manager
 * entrypoint calls, and throws, saying what is wrong and what to do, when it does not. A missing or broken CLI
 * fails the tests that need it instead of skipping them: `nx run-many -t test` builds the package first, so in CI
 * it is always there, and anywhere else a skip would hide a broken config CLI.
 *
 * @param packageDir the config package @default packages/config
 * @returns always `{ ready: true }`; the union type remains for callers that still read `ready` (it is never false)
 * @throws Error when `dist/cli.js` is missing or `render --help` does not exit 0
 */
export function configCliStatus(packageDir = CONFIG_PACKAGE_DIR): { ready: true } | { ready: false; reason: string } {
  const cli = join(packageDir, 'dist/cli.js');
  if (!existsSync(cli)) {
    throw new Error(`@gitlab-fargate/config's CLI ${cli} does not exist: compile it (npx nx run @gitlab-fargate/config:build)`);
  }
  const help = spawnSync(process.execPath, [cli, 'render', '--help'], { encoding: 'utf8', timeout: 20_000 });
  if (help.status !== 0) {
    throw new Error(
      `@gitlab-fargate/config's CLI is broken: "node ${cli} render --help" exits ${help.status ?? help.signal}: ` +
        `${help.stderr.trim().slice(0, 300)} (fix packages/config, then npx nx run @gitlab-fargate/config:build)`,
    );
  }
  return { ready: true };
}
