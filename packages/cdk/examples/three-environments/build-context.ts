import * as fs from 'node:fs';
import * as path from 'node:path';

/** The commands that fill `images/runner-manager/dist/` in a checkout (what the pipeline's build job runs). */
export const MANAGER_CONTEXT_COMMANDS = [
  'npx nx run-many -t build',
  'npx nx run @gitlab-fargate/driver:bundle',
  'npx gitlab-fargate-images context --out images/runner-manager --config-package packages/config ' +
    '--driver-bundle packages/driver/dist/bundle/gitlab-fargate-driver.mjs',
];

/** What the runner-manager Dockerfile copies from `dist/` with its default build arguments. */
export const MANAGER_CONTEXT_FILES = ['dist/gitlab-fargate-driver.mjs', 'dist/gitlab-fargate-config/dist/cli.js'];

/**
 * Fails synth, naming the commands that make them, when the runner-manager build context lacks the driver bundle
 * or the config CLI. A fresh checkout has neither (`dist/` is not in git), and without this check the mistake would
 * surface only at `cdk deploy`, as a Docker `COPY` error far from its cause.
 */
export function requireManagerBuildContext(directory: string): void {
  const missing = MANAGER_CONTEXT_FILES.filter((file) => !fs.existsSync(path.join(directory, file)));
  if (missing.length === 0) return;
  throw new Error(
    `the runner-manager image's build context ${directory} lacks ${missing.join(' and ')}: a fresh checkout has no ` +
      'build outputs. Make them from the repository root with:\n' +
      MANAGER_CONTEXT_COMMANDS.map((command) => `  ${command}`).join('\n') +
      '\nor point -c managerImage=DIR at a build context that has them.',
  );
}
