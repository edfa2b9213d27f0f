import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunnerConfig } from '@gitlab-fargate/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configCliStatus } from '../../../test/config-cli.js';
import { buildImage, dockerRun, removeOurContainers } from '../../../test/docker.js';
import { testNodeBaseImage } from '../../../test/node-base-image.js';
import { CONFIG_PACKAGE_DIR, REPO_ROOT } from '../../../test/paths.js';
import { assembleRunnerManagerContext } from '../../context/runner-manager-context.js';
import { runnerManagerLayout } from './layout.js';
import { resolveRunnerManagerSpec } from '../../spec/runner-manager.js';

const configCli = configCliStatus();
const layout = runnerManagerLayout(resolveRunnerManagerSpec());
/** The driver's native run client, as `gitlab-fargate-images context --run-client-source` takes it. */
const RUN_CLIENT_SOURCE = join(REPO_ROOT, 'packages/driver/native/run-client.c');

/** A stand-in driver bundle: prints the arguments it was started with (what the run client's fallback passes). */
const STAND_IN_DRIVER = "console.log(JSON.stringify(process.argv.slice(2)));\n";

describe.skipIf(!configCli.ready)('runner-manager image with the native run client', () => {
  let image: string;
  let contextDir: string;

  beforeAll(async () => {
    removeOurContainers();
    const base = await testNodeBaseImage();
    contextDir = await mkdtemp(join(tmpdir(), 'runner-manager-run-client-'));
    const driverBundle = join(contextDir, 'stand-in-driver.mjs');
    await writeFile(driverBundle, STAND_IN_DRIVER);
    const context = await assembleRunnerManagerContext({
      outDir: join(contextDir, 'context'),
      configPackageDir: CONFIG_PACKAGE_DIR,
      driverBundle,
      runClientSource: RUN_CLIENT_SOURCE,
    });
    expect(context.buildArgs).toEqual({});
    image = await buildImage(context.outDir, 'gitlab-fargate-test/runner-manager:run-client', { BASE_IMAGE: base, INSTALL_GITLAB_RUNNER: 'false' });
  });

  afterAll(async () => {
    if (contextDir) await rm(contextDir, { recursive: true, force: true });
  });

  it('renders run_exec and cleanup_exec to the compiled client, with the driver for config and prepare', () => {
    const result = dockerRun(
      image,
      ['-e', 'CLUSTER=ci', '-e', 'SUBNETS=subnet-0a1b2c3d4e5f60718', '-e', 'TASK_DEFINITION=ci-job:1', '-e', 'GITLAB_URL=https://gitlab.example.com/',
        '-e', 'RUNNER_TOKEN=glrt-t1_0123456789abcdefghijk'],
      ['sh', '-c', 'cat "$RUNNER_CONFIG_PATH"'],
    );
    expect(result.code, result.stderr).toBe(0);
    const [runner] = parseRunnerConfig(result.stdout).config.runners;
    expect(runner?.custom).toMatchObject({
      configExec: layout.driverCommand,
      runExec: layout.runClientCommand,
      runArgs: ['--config', layout.driverConfigPath, 'custom', 'run'],
      cleanupArgs: ['--config', layout.driverConfigPath, 'custom', 'cleanup'],
      cleanupExec: layout.runClientCommand,
    });
  });

  it('runs the static client in the image, which becomes the driver when there is no multiplexer', () => {
    const args = ['--config', layout.driverConfigPath, 'custom', 'run', '/etc/hostname', 'build_script'];
    // No GITLAB_FARGATE_* variables (no config stage ran): the fallback is the driver on PATH, with the same arguments.
    const result = dockerRun(image, ['--entrypoint', layout.runClientCommand], args);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(args);
  });
});
