import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';

/** Where things live in the runner-manager image, derived from its spec. */
export interface RunnerManagerLayout {
  /** The build context's `dist/` folder is copied here. */
  readonly bundleDir: string;
  readonly entrypoint: string;
  readonly configCliCommand: string;
  readonly driverCommand: string;
  /**
   * The driver's native run client (`run_exec`), compiled in the image from the build context's
   * `dist/native/run-client.c` when the context has it (the entrypoint then renders `run_exec` to it).
   */
  readonly runClientCommand: string;
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
    runClientCommand: '/usr/local/bin/gitlab-fargate-run',
    managerCommand: '/usr/local/bin/gitlab-fargate-manager',
    managerFolder: 'gitlab-fargate-manager',
    runnerConfigPath: `${spec.configDir}/config.toml`,
    driverConfigPath: `${spec.configDir}/fargate.toml`,
    defaultCaPath: `${spec.configDir}/certs/ca.crt`,
    home: spec.runAs === 'root' ? '/root' : `/home/${spec.runAs}`,
  };
}

/**
 * The command that shows the rendered configuration, as the entrypoint's comments and the README give it: the config
 * CLI prints both files normalized, the runner token hidden. Printing the files themselves would put the token into
 * the container's logs (CloudWatch).
 */
export function safeConfigInspection(layout: RunnerManagerLayout): string {
  return `gitlab-fargate-config validate --print ${layout.runnerConfigPath} ${layout.driverConfigPath}`;
}

/**
 * The driver's log when the container is given no LOG_FILE: a file the entrypoint relays, line by line, to the
 * container's stdout. CloudWatch extracts the driver's per-job metrics (embedded metric format) only from a log event
 * that is the JSON line alone; on stderr, gitlab-runner wraps each of the driver's lines in its own log line. The
 * folder is the run-as user's alone (0700): the driver runs as that user and the log names hosts and tasks.
 */
export const RELAYED_DRIVER_LOG_DIR = '/var/log/gitlab-fargate';
/** The file in {@link RELAYED_DRIVER_LOG_DIR}; the driver rotates it to `driver.log.1` past its size limit. */
export const RELAYED_DRIVER_LOG_FILE = `${RELAYED_DRIVER_LOG_DIR}/driver.log`;

/** Where the build context holds the native run client's source (`RunnerManagerContextOptions.runClientSource`). */
export const RUN_CLIENT_SOURCE = 'native/run-client.c';

/** Where a private CA given at start is installed for the system store (and Node.js). */
export const PRIVATE_CA_FILE = '/usr/local/share/ca-certificates/gitlab-fargate-private-ca.crt';
