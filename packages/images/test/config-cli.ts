import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_PACKAGE_DIR } from './paths.js';

/**
 * Whether @gitlab-fargate/config's compiled CLI exists and has the `render` command the runner-manager entrypoint
 * calls. That package is written in parallel; until it is ready, tests that need it are skipped with this reason.
 */
export function configCliStatus(): { ready: true } | { ready: false; reason: string } {
  const cli = join(CONFIG_PACKAGE_DIR, 'dist/cli.js');
  if (!existsSync(cli)) {
    return { ready: false, reason: `waiting on @gitlab-fargate/config: ${cli} does not exist (compile packages/config)` };
  }
  const help = spawnSync(process.execPath, [cli, 'render', '--help'], { encoding: 'utf8', timeout: 20_000 });
  if (help.status !== 0) {
    return {
      ready: false,
      reason: `waiting on @gitlab-fargate/config: "gitlab-fargate-config render --help" exits ${help.status}: ${help.stderr.trim().slice(0, 300)}`,
    };
  }
  return { ready: true };
}
