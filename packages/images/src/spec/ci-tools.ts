import { CI_COORDINATOR_DEFAULTS, readCiCoordinatorSpec, type CiCoordinatorSpec, type ResolvedCiCoordinatorSpec } from './ci-coordinator.js';
import { IssueCollector } from './issues.js';

/**
 * The Node.js version of the ci-tools base image: the workspace's floor (the first range of the root package.json
 * `engines.node`, from projenrc/versions.ts; a test keeps the two equal).
 */
export const CI_TOOLS_NODE_VERSION = '20.19.0';

/**
 * The defaults of `ciTools`: the ci-coordinator contract (sshd, the entrypoint, gitlab-runner) on the official
 * Node.js image at {@link CI_TOOLS_NODE_VERSION} (Node.js, npm and npx), plus the tools the tests of this
 * repository's pipeline call (gpg, OpenSSH's client, openssl, ps, rsync, shellcheck).
 */
export const CI_TOOLS_DEFAULTS: ResolvedCiCoordinatorSpec = {
  ...CI_COORDINATOR_DEFAULTS,
  baseImage: `node:${CI_TOOLS_NODE_VERSION}-bookworm-slim`,
  extraPackages: ['gnupg', 'openssh-client', 'openssl', 'procps', 'rsync', 'shellcheck'],
};

/**
 * The commands `.gitlab-ci.yml`'s jobs run that are not shell builtins: every one must be on the PATH of an SSH
 * session in the ci-tools image (its integration test runs each), and a job may call no other (tools/pipeline's
 * tests check the file against this list).
 */
export const CI_TOOLS_COMMANDS: readonly string[] = ['bash', 'git', 'mktemp', 'node', 'npm', 'npx'];

/** Reads and checks a ci-tools spec at `path`: a ci-coordinator spec with {@link CI_TOOLS_DEFAULTS}. */
export function readCiToolsSpec(input: unknown, path: string, issues: IssueCollector): ResolvedCiCoordinatorSpec {
  return readCiCoordinatorSpec(input, path, issues, CI_TOOLS_DEFAULTS);
}

/**
 * Applies the ci-tools defaults to a spec and checks it.
 * @throws SpecValidationError listing every problem when the spec is invalid.
 */
export function resolveCiToolsSpec(spec: CiCoordinatorSpec = {}): ResolvedCiCoordinatorSpec {
  const issues = new IssueCollector();
  const resolved = readCiToolsSpec(spec, 'ciTools', issues);
  issues.throwIfAny();
  return resolved;
}
