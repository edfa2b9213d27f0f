import { dirname } from 'node:path';
import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';
import { gitlabRunnerInstall } from '../gitlab-runner-install.js';
import { generatedNotice, runInstruction } from '../shell.js';
import { RUN_CLIENT_SOURCE, runnerManagerLayout, type RunnerManagerLayout } from './layout.js';

/**
 * The runner-manager Dockerfile for a resolved spec. Its sections, separated by a blank line: the header comment and
 * the build arguments, the base packages and the run-as user, gitlab-runner, the commands from `dist/`, the
 * entrypoint, and the runtime settings (paths, stop signal, entrypoint under tini).
 */
export function runnerManagerDockerfile(spec: ResolvedRunnerManagerSpec): string {
  const layout = runnerManagerLayout(spec);
  return [
    [...headerComment(spec), ...buildArguments(spec)],
    runClientStage(),
    [`FROM \${BASE_IMAGE}`, ...otherBuildArguments(spec)],
    [basePackagesAndUser(spec, layout)],
    [gitlabRunnerInstall()],
    commandsFromDist(layout),
    [`COPY entrypoint ${layout.entrypoint}`, `RUN chmod 0755 ${layout.entrypoint}`],
    [...runtimeSettings(spec, layout), ''],
  ]
    .map((section) => section.join('\n'))
    .join('\n\n');
}

/** What the image is, what it leaves out, and its build arguments with their defaults. */
function headerComment(spec: ResolvedRunnerManagerSpec): string[] {
  return [
    ...generatedNotice('runner-manager: gitlab-runner (custom executor) with the gitlab-fargate driver.'),
    '#',
    '# Nothing environment-specific is built in: no token, tags, subnets or security groups. At each start the',
    '# entrypoint renders config.toml and the driver TOML from environment variables and ECS secrets (and, when',
    '# GITLAB_FARGATE_SETTINGS_PARAMETER names one, an SSM parameter, which it watches to re-render them in place).',
    '#',
    '# Build context: this folder plus dist/, which `gitlab-fargate-images context` fills with the driver bundle,',
    '# the config CLI and the manager helper (settings parameter, manager ID, settings watcher). Build arguments:',
    `#   BASE_IMAGE             Debian-based image with node on the PATH      default ${spec.baseImage}`,
    `#   INSTALL_GITLAB_RUNNER  gitlab-runner (needs packages.gitlab.com)     default ${spec.gitlabRunner}`,
    `#   GITLAB_RUNNER_VERSION  e.g. 18.6.2; empty for the newest             default "${spec.gitlabRunnerVersion}"`,
    `#   DRIVER_BUNDLE          the driver, relative to dist/                 default ${spec.driverBundle}`,
    '#                          (empty: no driver; such an image only renders configuration, for tests)',
    `#   CONFIG_CLI             the config CLI, relative to dist/             default ${spec.configCli}`,
    '# Offline test build: --build-arg BASE_IMAGE=<a local Debian image with node> --build-arg INSTALL_GITLAB_RUNNER=false',
    '#   --build-arg DRIVER_BUNDLE=',
  ];
}

/** The base image (a build argument of every stage). */
function buildArguments(spec: ResolvedRunnerManagerSpec): string[] {
  return [`ARG BASE_IMAGE=${spec.baseImage}`];
}

/**
 * A first stage that compiles the driver's native run client (one static binary) when the build context has its
 * source, so the image itself carries no compiler; otherwise it leaves nothing, and run_exec stays the driver.
 */
function runClientStage(): string[] {
  return [
    '# The driver\'s native run client (run_exec), compiled static here when dist/ has its source.',
    'FROM ${BASE_IMAGE} AS run-client',
    'COPY dist/native/ /src/',
    runInstruction([
      'mkdir -p /out;',
      `if [ -f /src/${RUN_CLIENT_SOURCE.slice('native/'.length)} ]; then`,
      '  apt-get update;',
      '  apt-get install -y --no-install-recommends gcc libc6-dev;',
      `  gcc -O2 -static -o /out/gitlab-fargate-run /src/${RUN_CLIENT_SOURCE.slice('native/'.length)};`,
      'fi',
    ]),
  ];
}

/** The final stage's build arguments (the spec's values are only their defaults) and the shell. */
function otherBuildArguments(spec: ResolvedRunnerManagerSpec): string[] {
  return [
    '',
    `ARG INSTALL_GITLAB_RUNNER=${spec.gitlabRunner}`,
    `ARG GITLAB_RUNNER_VERSION=${spec.gitlabRunnerVersion}`,
    `ARG DRIVER_BUNDLE=${spec.driverBundle}`,
    `ARG CONFIG_CLI=${spec.configCli}`,
    'ARG DEBIAN_FRONTEND=noninteractive',
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
  ];
}

/** tini and the CA store; the run-as user (unless root) and the folders it owns. */
function basePackagesAndUser(spec: ResolvedRunnerManagerSpec, layout: RunnerManagerLayout): string {
  const owner = spec.runAs;
  return runInstruction([
    'command -v node >/dev/null || { echo "BASE_IMAGE has no node on the PATH: build on a Node.js image such as node:22-bookworm-slim" >&2; exit 1; };',
    'apt-get update;',
    'apt-get install -y --no-install-recommends ca-certificates tini;',
    'rm -rf /var/lib/apt/lists/*;',
    ...(owner === 'root'
      ? []
      : [`id -u ${owner} >/dev/null 2>&1 || useradd --system --create-home --home-dir ${layout.home} --shell /usr/sbin/nologin ${owner};`]),
    `install -d -m 0700 -o ${owner} -g "$(id -gn ${owner})" ${spec.configDir} ${spec.metadataDir}`,
  ]);
}

/** `dist/` copied in, and a wrapper command for the config CLI, the manager helper and (unless left out) the driver. */
function commandsFromDist(layout: RunnerManagerLayout): string[] {
  return [
    `COPY dist/ ${layout.bundleDir}/`,
    `COPY --from=run-client /out/ ${dirname(layout.runClientCommand)}/`,
    runInstruction([
      ...nodeWrapper(layout, layout.configCliCommand, '$CONFIG_CLI'),
      `${layout.configCliCommand} --help >/dev/null;`,
      ...nodeWrapper(layout, layout.managerCommand, `${layout.managerFolder}/cli.js`),
      `${layout.managerCommand} --help >/dev/null;`,
      'if [ -n "$DRIVER_BUNDLE" ]; then',
      ...nodeWrapper(layout, layout.driverCommand, '$DRIVER_BUNDLE').map((line) => `  ${line}`),
      'else',
      '  echo "DRIVER_BUNDLE is empty: the driver is left out; this image renders configuration but cannot run jobs";',
      'fi',
    ]),
  ];
}

/** Shell lines that make `command` run `node` on `file` of `dist/`, refusing a build context without it. */
function nodeWrapper(layout: RunnerManagerLayout, command: string, file: string): string[] {
  return [
    `test -f "${layout.bundleDir}/${file}" || { echo "dist/${file} is missing from the build context: fill dist/ with \\\`gitlab-fargate-images context\\\`" >&2; exit 1; };`,
    `printf '#!/bin/sh\\nexec node %s "$@"\\n' "${layout.bundleDir}/${file}" > ${command};`,
    `chmod 0755 ${command};`,
  ];
}

/** The image's only ENV (paths), gitlab-runner's graceful stop signal, and the entrypoint under tini. */
function runtimeSettings(spec: ResolvedRunnerManagerSpec, layout: RunnerManagerLayout): string[] {
  return [
    '# Paths only: the config CLI reads these when rendering, everything else comes from the task definition.',
    `ENV RUNNER_CONFIG_PATH=${layout.runnerConfigPath} \\`,
    `    DRIVER_CONFIG_PATH=${layout.driverConfigPath} \\`,
    `    DRIVER_PATH=${layout.driverCommand} \\`,
    `    METADATA_DIR=${spec.metadataDir}`,
    '# gitlab-runner lets running jobs finish on SIGQUIT and cancels them on SIGTERM: a deploy of the manager must',
    '# not cancel jobs (tini forwards the signal; the task\'s stopTimeout bounds the wait).',
    'STOPSIGNAL SIGQUIT',
    `ENTRYPOINT ["/usr/bin/tini", "--", "${layout.entrypoint}"]`,
  ];
}
