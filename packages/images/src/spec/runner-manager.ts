import { FieldReader } from './fields.js';
import { IMAGE_REFERENCE_TYPE_FIX, imageReferenceProblem } from './image-reference.js';
import { IssueCollector } from './issues.js';
import { patterns } from './patterns.js';

/**
 * The runner manager: gitlab-runner with the custom executor, the driver and the config CLI on a Node.js base.
 * Nothing environment-specific is baked in: the entrypoint renders `config.toml` and the driver TOML from the
 * container's environment at every start, with an SSM settings parameter's values laid over it when
 * `GITLAB_FARGATE_SETTINGS_PARAMETER` names one, and then re-renders them in place whenever that parameter changes.
 *
 * The build context is this folder plus a `dist/` folder holding the driver bundle and the config CLI
 * (`gitlab-fargate-images context` fills it).
 */
export interface RunnerManagerSpec {
  /**
   * Default of the `BASE_IMAGE` build argument: a Debian-based image with `node` on the PATH. Pin it by digest,
   * `NAME:TAG@sha256:<64 hex digits>`, so that a moved tag cannot change what is built; the reference is used
   * verbatim in `FROM`.
   * @default "node:22-bookworm-slim"
   */
  readonly baseImage?: string;
  /**
   * Default of `INSTALL_GITLAB_RUNNER`: install gitlab-runner from GitLab's package repository. Needs
   * packages.gitlab.com at build time; an image built without it can render configuration but not run jobs.
   * @default true
   */
  readonly gitlabRunner?: boolean;
  /**
   * Default of `GITLAB_RUNNER_VERSION`: the gitlab-runner version to install, or "" for the newest.
   * @default ""
   */
  readonly gitlabRunnerVersion?: string;
  /**
   * The user gitlab-runner and the driver run as. The entrypoint starts as root (to install a private CA), renders
   * the configuration, hands it to this user and drops to it.
   * @default "gitlab-runner"
   */
  readonly runAs?: string;
  /**
   * Where `config.toml` and the driver's `fargate.toml` are rendered.
   * @default "/etc/gitlab-runner"
   */
  readonly configDir?: string;
  /**
   * The driver's state directory (the driver TOML's `[TaskMetadata] Directory`), created writable for `runAs`.
   * @default "/opt/gitlab-runner/metadata"
   */
  readonly metadataDir?: string;
  /**
   * Default of `DRIVER_BUNDLE`: the driver's single-file bundle, relative to the context's `dist/`. Building with
   * `--build-arg DRIVER_BUNDLE=` leaves the driver out (only for tests that render configuration).
   * @default "gitlab-fargate-driver.mjs"
   */
  readonly driverBundle?: string;
  /**
   * Default of `CONFIG_CLI`: the config CLI's entry file, relative to the context's `dist/`. The default is the
   * layout `gitlab-fargate-images context` writes (the package's compiled `dist/` with its dependencies beside it);
   * a single-file bundle works as well.
   * @default "gitlab-fargate-config/dist/cli.js"
   */
  readonly configCli?: string;
}

/** A {@link RunnerManagerSpec} with every default applied. */
export type ResolvedRunnerManagerSpec = { readonly [K in keyof RunnerManagerSpec]-?: NonNullable<RunnerManagerSpec[K]> };

/** The defaults documented on {@link RunnerManagerSpec}. */
export const RUNNER_MANAGER_DEFAULTS: ResolvedRunnerManagerSpec = {
  baseImage: 'node:22-bookworm-slim',
  gitlabRunner: true,
  gitlabRunnerVersion: '',
  runAs: 'gitlab-runner',
  configDir: '/etc/gitlab-runner',
  metadataDir: '/opt/gitlab-runner/metadata',
  driverBundle: 'gitlab-fargate-driver.mjs',
  configCli: 'gitlab-fargate-config/dist/cli.js',
};

const KNOWN_KEYS = Object.keys(RUNNER_MANAGER_DEFAULTS);

/** Reads and checks a runner-manager spec at `path`, recording problems in `issues`. */
export function readRunnerManagerSpec(input: unknown, path: string, issues: IssueCollector): ResolvedRunnerManagerSpec {
  const fields = FieldReader.of(input, path, issues);
  fields.rejectUnknownKeys(KNOWN_KEYS);
  const d = RUNNER_MANAGER_DEFAULTS;
  const resolved: ResolvedRunnerManagerSpec = {
    baseImage: fields.checkedString('baseImage', d.baseImage, imageReferenceProblem, IMAGE_REFERENCE_TYPE_FIX),
    gitlabRunner: fields.boolean('gitlabRunner', d.gitlabRunner),
    gitlabRunnerVersion: fields.string('gitlabRunnerVersion', d.gitlabRunnerVersion, patterns.runnerVersion),
    runAs: fields.string('runAs', d.runAs, patterns.userName),
    configDir: fields.string('configDir', d.configDir, patterns.absolutePath),
    metadataDir: fields.string('metadataDir', d.metadataDir, patterns.absolutePath),
    driverBundle: fields.string('driverBundle', d.driverBundle, patterns.contextRelativeFile),
    configCli: fields.string('configCli', d.configCli, patterns.contextRelativeFile),
  };
  if (resolved.configDir === resolved.metadataDir) {
    issues.add(
      fields.at('metadataDir'),
      'is the same folder as configDir',
      'give the driver its own state folder, e.g. "/opt/gitlab-runner/metadata"',
    );
  }
  return resolved;
}

/**
 * Applies defaults to a runner-manager spec and checks it.
 * @throws SpecValidationError listing every problem when the spec is invalid.
 */
export function resolveRunnerManagerSpec(spec: RunnerManagerSpec = {}): ResolvedRunnerManagerSpec {
  const issues = new IssueCollector();
  const resolved = readRunnerManagerSpec(spec, 'runnerManager', issues);
  issues.throwIfAny();
  return resolved;
}
