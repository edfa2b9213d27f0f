import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';

/** Where things live in the runner-manager image, derived from its spec. */
export interface RunnerManagerLayout {
  /** The build context's `dist/` folder is copied here. */
  readonly bundleDir: string;
  readonly entrypoint: string;
  readonly configCliCommand: string;
  readonly driverCommand: string;
  /** The runner-manager helper (`src/manager/`): settings parameter, manager ID, settings watcher. */
  readonly managerCommand: string;
  /** Where the helper's compiled files go in the build context's `dist/`, and so in `bundleDir`. */
  readonly managerFolder: string;
  readonly runnerConfigPath: string;
  readonly driverConfigPath: string;
  /** A private CA here (e.g. a mounted file) is installed at start, as in GitLab's own runner image. */
  readonly defaultCaPath: string;
  readonly home: string;
}

/** The image's paths for a resolved spec. */
export function runnerManagerLayout(spec: ResolvedRunnerManagerSpec): RunnerManagerLayout {
  return {
    bundleDir: '/opt/gitlab-fargate',
    entrypoint: '/entrypoint',
    configCliCommand: '/usr/local/bin/gitlab-fargate-config',
    driverCommand: '/usr/local/bin/gitlab-fargate-driver',
    managerCommand: '/usr/local/bin/gitlab-fargate-manager',
    managerFolder: 'gitlab-fargate-manager',
    runnerConfigPath: `${spec.configDir}/config.toml`,
    driverConfigPath: `${spec.configDir}/fargate.toml`,
    defaultCaPath: `${spec.configDir}/certs/ca.crt`,
    home: spec.runAs === 'root' ? '/root' : `/home/${spec.runAs}`,
  };
}
