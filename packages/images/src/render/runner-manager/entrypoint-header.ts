import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';
import { MANAGER_ID_VARIABLE, MANAGER_VERSION_VARIABLE, SETTINGS_PARAMETER_VARIABLE, SETTINGS_POLL_SECONDS_VARIABLE } from '../../manager/variables.js';
import { generatedNotice } from '../shell.js';
import { RELAYED_DRIVER_LOG_FILE, safeConfigInspection, type RunnerManagerLayout } from './layout.js';
import { RUNNER_IDENTITY_VARIABLE } from './runner-identity.js';

/**
 * The entrypoint's first lines: the shebang, the generated-file notice, the steps of a start in the order they run
 * (the sections of `runnerManagerEntrypoint` follow them), and bash's strict mode.
 */
export function entrypointHeader(spec: ResolvedRunnerManagerSpec, layout: RunnerManagerLayout): string {
  return `#!/usr/bin/env bash
${generatedNotice('runner-manager entrypoint: render the configuration, then run gitlab-runner.').join('\n')}
#
# 1. Secrets: RUNNER_TOKEN (a glrt- runner authentication token) or, deprecated, REGISTRATION_TOKEN; each may
#    instead be read from the file named by RUNNER_TOKEN_FILE / REGISTRATION_TOKEN_FILE.
# 2. Private CA: CA_CERTIFICATES_PEM (PEM text), else the file CA_CERTIFICATES_PATH
#    (default ${layout.defaultCaPath} when present), goes into the system store, and NODE_EXTRA_CA_CERTS names it
#    for Node.js. Before anything connects: the settings parameter's read (SSM) trusts it too.
# 3. Driver TOML: \`gitlab-fargate-config render driver\` reads CLUSTER, REGION, SUBNETS, SECURITY_GROUP_IDS,
#    TASK_DEFINITION, ... (see the config package's README) and writes DRIVER_CONFIG_PATH.
#    Driver log: without LOG_FILE, the driver logs to ${RELAYED_DRIVER_LOG_FILE}
#    (folder 0700, file 0600, owned by ${spec.runAs}), and a \`tail -F\` running as ${spec.runAs} copies each new line
#    to this container's stdout, so that each becomes a log event of its own: CloudWatch extracts the per-job
#    metrics (embedded metric format) only from an event that is the JSON line alone, and gitlab-runner wraps the
#    driver's stderr in its own log lines. The follower goes by name (the driver rotates the file to driver.log.1)
#    and ends with the container. LOG_FILE="" keeps the driver on stderr (then no metrics reach CloudWatch); any
#    other LOG_FILE is used as it is, not relayed, and must be writable by ${spec.runAs}.
# 4. Legacy registration: with REGISTRATION_TOKEN, \`gitlab-runner register\` obtains a runner token (deprecated).
# 5. config.toml: \`gitlab-fargate-config render runner\` reads GITLAB_URL, RUNNER_TOKEN, RUNNER_NAME, ... and
#    writes RUNNER_CONFIG_PATH. Both files end up mode 0600, owned by ${spec.runAs}.
# 6. Runner identity: ${RUNNER_IDENTITY_VARIABLE}, the runner's short token the driver goes by (its tasks'
#    startedBy, which gc and the orphan reaper use), stays in gitlab-runner's environment, where no job can change it.
#    Given to the container, it is kept; else it is derived from RUNNER_TOKEN as gitlab-runner shortens tokens.
# Settings parameter: with ${SETTINGS_PARAMETER_VARIABLE} (an SSM String parameter holding a JSON object of the
#    setting variables of steps 3 and 5, e.g. {"CONCURRENT": "8"}), its values are laid over the environment before step 3
#    (\`gitlab-fargate-manager settings\`), and after step 6 a watcher running as ${spec.runAs} reads it every
#    ${SETTINGS_POLL_SECONDS_VARIABLE} (default 30) seconds: a new value re-renders both files in place (gitlab-runner
#    reloads config.toml by itself); one naming another ${MANAGER_VERSION_VARIABLE} than this container's sends
#    gitlab-runner SIGQUIT (no new jobs; it exits when its running jobs end). While the parameter names another
#    version at start, the start waits. ${MANAGER_ID_VARIABLE}: this manager's ECS task ID, for the driver's task tags.
# 7. The tokens leave the environment and the command runs as ${spec.runAs}: by default
#    \`gitlab-runner run\`; a command given to the container replaces it, and arguments starting with "-" are
#    passed to \`gitlab-runner run\`. To see what was rendered, give this command, which hides the token:
#      ${safeConfigInspection(layout)}
#    Never print the files themselves: they hold the runner token, and a command's output goes to the logs.
set -euo pipefail`;
}
