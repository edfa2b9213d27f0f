import { join } from 'node:path';
import { CONFIG_PACKAGE_DIR } from './paths.js';
import type { RenderTargets } from '../src/manager/rerender.js';

/** A manager's environment as a task definition gives it (the token as a secret), for tests that render. */
export const MANAGER_BASE_ENVIRONMENT: Readonly<Record<string, string>> = {
  CLUSTER: 'gitlab-ci-dev',
  REGION: 'eu-west-1',
  SUBNETS: 'subnet-0a1b2c3d4e5f60718',
  TASK_DEFINITION: 'gitlab-ci-dev-job:7',
  GITLAB_URL: 'https://gitlab.example.com/',
  RUNNER_NAME: 'fargate-dev',
  RUNNER_TOKEN: 'glrt-t1_testtokentesttokentest',
  CONCURRENT: '2',
};

/** Render targets in `dir`, rendered by the compiled config CLI of this repository. */
export function testTargets(dir: string): RenderTargets {
  return {
    driverConfigPath: join(dir, 'fargate.toml'),
    runnerConfigPath: join(dir, 'config.toml'),
    configCli: [process.execPath, join(CONFIG_PACKAGE_DIR, 'dist/cli.js')],
  };
}
