import type { ResolvedCiCoordinatorSpec } from '../../spec/ci-coordinator.js';
import { awsCliInstall } from '../aws-cli/aws-cli-install.js';
import { AWS_CLI_KEY_FILE, AWS_CLI_KEY_FINGERPRINT } from '../aws-cli/aws-cli-key.js';
import { gitlabRunnerInstall } from '../gitlab-runner-install.js';
import { generatedNotice, runInstruction, shellQuote } from '../shell.js';
import { JOB_KEY_VARIABLE } from './entrypoint.js';
import { CLAIM_COMMAND, IDLE_DEADLINE_VARIABLE, RUN_DIR } from './pool-contract.js';
import { ENTRYPOINT_PATH, sshdConfigLines } from './sshd-config.js';

/** Packages every job needs; the driver's container contract names bash, git and git-lfs. */
const BASE_PACKAGES = ['bash', 'ca-certificates', 'git', 'git-lfs', 'openssh-server', 'tini'];

/** The first line of the ci-coordinator Dockerfile: what the image is. */
const CI_COORDINATOR_DESCRIPTION =
  'ci-coordinator: the job container. The driver starts one per job and runs its scripts over SSH.';

/**
 * The ci-coordinator Dockerfile for a resolved spec: its sections in order. `description` is its first line (an
 * image built to the same contract, such as ci-tools, says what it is for).
 */
export function ciCoordinatorDockerfile(spec: ResolvedCiCoordinatorSpec, description = CI_COORDINATOR_DESCRIPTION): string {
  return [
    ...header(spec, description),
    ...buildArguments(spec),
    '',
    packagesInstall(spec),
    '',
    gitlabRunnerInstall(),
    '',
    '# The AWS CLI installer is unzipped only after its PGP signature checks out against AWS\'s key (fingerprint',
    `# ${AWS_CLI_KEY_FINGERPRINT}), which ${AWS_CLI_KEY_FILE} beside this file holds.`,
    awsCliInstall(),
    '',
    '# The SSH user, the job folders, and sshd: host keys are made at each start (never shared between images),',
    '# the configuration is checked now.',
    sshSetup(spec),
    '',
    ...entrypoint(spec),
    '',
  ].join('\n');
}

const bool = (value: boolean): string => (value ? 'true' : 'false');

/** The generated-file notice and what the build arguments and the container's variables mean. */
function header(spec: ResolvedCiCoordinatorSpec, description: string): string[] {
  return [
    ...generatedNotice(description),
    '#',
    '# Build arguments:',
    `#   BASE_IMAGE             Debian or Ubuntu image to build on           default ${spec.baseImage}`,
    `#   INSTALL_GITLAB_RUNNER  gitlab-runner for artifacts and cache        default ${bool(spec.gitlabRunner)}`,
    '#                          (needs packages.gitlab.com)',
    `#   GITLAB_RUNNER_VERSION  e.g. 18.6.2; empty for the newest            default "${spec.gitlabRunnerVersion}"`,
    `#   INSTALL_NODEJS         Node.js and npm from the distribution        default ${bool(spec.nodejs)}`,
    `#   INSTALL_AWS_CLI        AWS CLI v2 (needs awscli.amazonaws.com)      default ${bool(spec.awsCli)}`,
    '#                          (its signature is checked against the key in the build context)',
    '# Offline build, only the distribution mirror reachable:',
    '#   docker build --build-arg BASE_IMAGE=local/debian:bookworm --build-arg INSTALL_GITLAB_RUNNER=false .',
    '# Nothing here downloads per architecture by name: apt and the AWS installer follow the build platform,',
    '# so `docker buildx build --platform linux/amd64,linux/arm64` works unchanged.',
    '#',
    `# Runtime: ${JOB_KEY_VARIABLE} (required) is the job key; every other variable of the container, the task role`,
    '# credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) included, is visible in SSH sessions.',
    `# ${IDLE_DEADLINE_VARIABLE} (optional, epoch seconds) makes an idle warm-pool task stop itself then unless a`,
    `# job claimed it first (${CLAIM_COMMAND}); sessions do not see it.`,
  ];
}

/** `FROM` and the build arguments, with the shell every `RUN` uses. */
function buildArguments(spec: ResolvedCiCoordinatorSpec): string[] {
  return [
    `ARG BASE_IMAGE=${spec.baseImage}`,
    'FROM ${BASE_IMAGE}',
    '',
    `ARG INSTALL_GITLAB_RUNNER=${bool(spec.gitlabRunner)}`,
    `ARG GITLAB_RUNNER_VERSION=${spec.gitlabRunnerVersion}`,
    `ARG INSTALL_NODEJS=${bool(spec.nodejs)}`,
    `ARG INSTALL_AWS_CLI=${bool(spec.awsCli)}`,
    '# ARG, not ENV: it must not leak into the environment of jobs.',
    'ARG DEBIAN_FRONTEND=noninteractive',
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
  ];
}

/** The distribution's packages: the job's tools, sshd, tini, and Node.js when asked for. */
function packagesInstall(spec: ResolvedCiCoordinatorSpec): string {
  const packages = [...BASE_PACKAGES, ...spec.extraPackages].map(shellQuote).join(' ');
  return runInstruction([
    'apt-get update;',
    `apt-get install -y --no-install-recommends ${packages};`,
    'if [ "$INSTALL_NODEJS" = true ]; then apt-get install -y --no-install-recommends nodejs npm; fi;',
    'rm -rf /var/lib/apt/lists/*;',
    'git lfs install --system --skip-repo',
  ]);
}

/** The SSH user, the job folders, the run-time folder, and sshd's configuration, checked with `sshd -t`. */
function sshSetup(spec: ResolvedCiCoordinatorSpec): string {
  return runInstruction([
    ...sshUserCreation(spec),
    // The job's scripts create their folders below these as the SSH user.
    `install -d -m 0755 -o ${spec.sshUser} -g "$(id -gn ${spec.sshUser})" ${spec.buildsDir} ${spec.cacheDir};`,
    'rm -f /etc/ssh/ssh_host_*;',
    'mkdir -p /run/sshd;',
    // The session environment and the warm pool's claim lock live here (root's; the entrypoint opens it to a
    // non-root SSH user only in a pool task).
    `install -d -m 0755 ${RUN_DIR};`,
    `printf '%s\\n' \\`,
    ...sshdConfigLines(spec).map((line) => `  ${shellQuote(line)} \\`),
    '  > /etc/ssh/sshd_config;',
    'chmod 0644 /etc/ssh/sshd_config;',
    'check=$(mktemp -d);',
    'ssh-keygen -q -t ed25519 -N "" -f "$check/key";',
    '/usr/sbin/sshd -t -f /etc/ssh/sshd_config -h "$check/key";',
    'rm -rf "$check"',
  ]);
}

/** A non-root SSH user is created (with a usable, password-less account); root exists already. */
function sshUserCreation(spec: ResolvedCiCoordinatorSpec): string[] {
  if (spec.sshUser === 'root') {
    return [];
  }
  return [
    `id -u ${spec.sshUser} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${spec.sshUser};`,
    // A locked account ("!" in /etc/shadow) cannot log in even with a key when PAM is off; "*" has no
    // password and is not locked.
    `usermod -p '*' ${spec.sshUser};`,
  ];
}

/** The entrypoint under tini, and the SSH port. */
function entrypoint(spec: ResolvedCiCoordinatorSpec): string[] {
  return [
    `COPY docker-entrypoint.sh ${ENTRYPOINT_PATH}`,
    `RUN chmod 0755 ${ENTRYPOINT_PATH}`,
    '',
    `EXPOSE ${spec.sshPort}`,
    `ENTRYPOINT ["/usr/bin/tini", "--", "${ENTRYPOINT_PATH}"]`,
  ];
}
