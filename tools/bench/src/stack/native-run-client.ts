import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunnerSettings } from '@gitlab-fargate/runner-harness';

/** The driver's native run client (packages/driver/native), built where the driver's build puts it. */
const BUILD_SCRIPT = fileURLToPath(new URL('../../../../packages/driver/native/build.sh', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../../../packages/driver/dist/native/gitlab-fargate-run', import.meta.url));

/**
 * Builds the native run client with the host's C compiler (`native/build.sh`, a second or so) and returns its path;
 * `undefined`, with the reason, when it cannot be built here (no compiler, no static libc): the suites then measure
 * the Node stage only.
 */
export function buildNativeRunClient(): { readonly path: string } | { readonly reason: string } {
  try {
    execFileSync(BUILD_SCRIPT, [CLIENT], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { path: CLIENT };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { reason: stderr || (error as Error).message };
  }
}

/**
 * The runner's settings with `run_exec` pointing at the native client, as the runner-manager image renders them: the
 * client takes the driver's own arguments (`--config … custom run`), without the Node script the local stack puts
 * first, and falls back to that script (the config stage names it in `job_env`).
 */
export function withNativeRunClient(runner: RunnerSettings, client: string): RunnerSettings {
  return { ...runner, custom: { ...runner.custom, runExec: client, runArgs: driverArguments(runner.custom.runArgs) } };
}

/**
 * The runner's settings with `cleanup_exec` pointing at the same native client (`--cleanup-exec` of the config CLI):
 * the job's multiplexer then runs the cleanup, and the client falls back to the Node cleanup.
 */
export function withNativeCleanup(runner: RunnerSettings, client: string): RunnerSettings {
  return { ...runner, custom: { ...runner.custom, cleanupExec: client, cleanupArgs: driverArguments(runner.custom.cleanupArgs) } };
}

/** A stage's arguments without the Node script the local stack puts before the driver's own (`--config …`). */
function driverArguments(args: readonly string[] = []): string[] {
  return args.indexOf('--config') >= 0 ? args.slice(args.indexOf('--config')) : [...args];
}
