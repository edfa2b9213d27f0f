import type { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR } from '@gitlab-fargate/config';
import { FieldReader } from './fields.js';
import { IMAGE_REFERENCE_TYPE_FIX, imageReferenceProblem } from './image-reference.js';
import { IssueCollector } from './issues.js';
import { patterns } from './patterns.js';

/** Host key algorithms sshd can generate at container start. */
export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

/** Every host key type, in the order sshd offers them. */
export const HOST_KEY_TYPES: readonly HostKeyType[] = ['ed25519', 'ecdsa', 'rsa'];

/**
 * The job container (`ci-coordinator`): sshd, bash, git, git-lfs and gitlab-runner, started by the driver with
 * the job's public key in `SSH_PUBLIC_KEY`.
 *
 * Tool switches are the *defaults* of build arguments: the generated Dockerfile always contains every optional
 * part, so one Dockerfile serves production (everything on) and offline builds (`--build-arg INSTALL_…=false`).
 */
export interface CiCoordinatorSpec {
  /**
   * Default of the `BASE_IMAGE` build argument: a Debian 12 / Ubuntu 22.04 or newer image (the Dockerfile uses
   * apt; sshd's pinned algorithms need OpenSSH 8.5). Pin it by digest, `NAME:TAG@sha256:<64 hex digits>`, so that
   * a moved tag cannot change what is built; the reference is used verbatim in `FROM`.
   * @default "debian:bookworm-slim"
   */
  readonly baseImage?: string;
  /**
   * The user the driver logs in as (the driver TOML's `[SSH] Username`). Root may log in with a key only when this
   * is `root`; any other user is created in the image and root login is refused.
   * @default "root"
   */
  readonly sshUser?: string;
  /**
   * Port sshd listens on (the driver TOML's `[SSH] Port` and the task definition's port mapping).
   * @default 22
   */
  readonly sshPort?: number;
  /**
   * The runner's `builds_dir` inside the job container, created in the image and owned by the SSH user (the job
   * scripts create their folders below it as that user).
   * @default "/opt/gitlab-runner/builds"
   */
  readonly buildsDir?: string;
  /**
   * The runner's `cache_dir` inside the job container, created like `buildsDir`.
   * @default "/opt/gitlab-runner/cache"
   */
  readonly cacheDir?: string;
  /**
   * Host key types generated at each container start. ed25519 alone keeps the start fast (an RSA key takes
   * noticeably longer on a small Fargate task).
   * @default ["ed25519"]
   */
  readonly hostKeyTypes?: readonly HostKeyType[];
  /**
   * Default of `INSTALL_GITLAB_RUNNER`: install gitlab-runner (artifacts and cache) from GitLab's package
   * repository. Needs packages.gitlab.com at build time.
   * @default true
   */
  readonly gitlabRunner?: boolean;
  /**
   * Default of `GITLAB_RUNNER_VERSION`: the gitlab-runner version to install, or "" for the newest.
   * @default ""
   */
  readonly gitlabRunnerVersion?: string;
  /**
   * Default of `INSTALL_NODEJS`: install Node.js and npm from the distribution's packages (Node.js 18 on Debian
   * bookworm, about 260 MB). For a current Node.js, use a Node.js image as `baseImage` instead.
   * @default false
   */
  readonly nodejs?: boolean;
  /**
   * Default of `INSTALL_AWS_CLI`: install AWS CLI v2 with AWS's installer for the build platform's
   * architecture. Needs awscli.amazonaws.com at build time.
   * @default false
   */
  readonly awsCli?: boolean;
  /**
   * More distribution packages to install, e.g. `["jq", "make"]`.
   * @default []
   */
  readonly extraPackages?: readonly string[];
}

/** A {@link CiCoordinatorSpec} with every default applied. */
export type ResolvedCiCoordinatorSpec = { readonly [K in keyof CiCoordinatorSpec]-?: NonNullable<CiCoordinatorSpec[K]> };

/** The defaults documented on {@link CiCoordinatorSpec}. */
export const CI_COORDINATOR_DEFAULTS: ResolvedCiCoordinatorSpec = {
  baseImage: 'debian:bookworm-slim',
  sshUser: 'root',
  sshPort: 22,
  // The config package's DEFAULT_BUILDS_DIR/DEFAULT_CACHE_DIR (render runner's builds_dir/cache_dir): checked by the
  // compiler here, without a runtime dependency on @gitlab-fargate/config (a devDependency of this package).
  buildsDir: '/opt/gitlab-runner/builds' satisfies typeof DEFAULT_BUILDS_DIR,
  cacheDir: '/opt/gitlab-runner/cache' satisfies typeof DEFAULT_CACHE_DIR,
  hostKeyTypes: ['ed25519'],
  gitlabRunner: true,
  gitlabRunnerVersion: '',
  nodejs: false,
  awsCli: false,
  extraPackages: [],
};

const KNOWN_KEYS = Object.keys(CI_COORDINATOR_DEFAULTS);

/**
 * Reads and checks a ci-coordinator spec at `path`, recording problems in `issues`; `defaults` fill the fields it
 * leaves out (another image built to the same contract, such as ci-tools, has its own).
 */
export function readCiCoordinatorSpec(
  input: unknown,
  path: string,
  issues: IssueCollector,
  defaults: ResolvedCiCoordinatorSpec = CI_COORDINATOR_DEFAULTS,
): ResolvedCiCoordinatorSpec {
  const fields = FieldReader.of(input, path, issues);
  fields.rejectUnknownKeys(KNOWN_KEYS);
  const d = defaults;
  return {
    baseImage: fields.checkedString('baseImage', d.baseImage, imageReferenceProblem, IMAGE_REFERENCE_TYPE_FIX),
    sshUser: fields.string('sshUser', d.sshUser, patterns.userName),
    sshPort: fields.integer('sshPort', d.sshPort, { min: 1, max: 65535 }),
    buildsDir: fields.string('buildsDir', d.buildsDir, patterns.absolutePath),
    cacheDir: fields.string('cacheDir', d.cacheDir, patterns.absolutePath),
    hostKeyTypes: fields.stringArray('hostKeyTypes', d.hostKeyTypes, {
      pattern: new RegExp(`^(${HOST_KEY_TYPES.join('|')})$`),
      fix: `list one or more of ${HOST_KEY_TYPES.map((t) => `"${t}"`).join(', ')}`,
      nonEmpty: true,
      unique: true,
    }) as HostKeyType[],
    gitlabRunner: fields.boolean('gitlabRunner', d.gitlabRunner),
    gitlabRunnerVersion: fields.string('gitlabRunnerVersion', d.gitlabRunnerVersion, patterns.runnerVersion),
    nodejs: fields.boolean('nodejs', d.nodejs),
    awsCli: fields.boolean('awsCli', d.awsCli),
    extraPackages: fields.stringArray('extraPackages', d.extraPackages, { ...patterns.debianPackage, unique: true }),
  };
}

/**
 * Applies defaults to a ci-coordinator spec and checks it.
 * @throws SpecValidationError listing every problem when the spec is invalid.
 */
export function resolveCiCoordinatorSpec(spec: CiCoordinatorSpec = {}): ResolvedCiCoordinatorSpec {
  const issues = new IssueCollector();
  const resolved = readCiCoordinatorSpec(spec, 'ciCoordinator', issues);
  issues.throwIfAny();
  return resolved;
}
