import type { ResolvedRunnerManagerSpec } from '../../spec/runner-manager.js';
import { EXIT_MISCONFIGURED } from '../../manager/exit-codes.js';
import { entrypointHeader } from './entrypoint-header.js';
import {
  driverLogFunctions,
  legacyRegistrationFunction,
  logFunctions,
  privateCaFunction,
  runnerIdentityFunctions,
  scriptVariables,
  secretFileFunction,
} from './entrypoint-functions.js';
import { settingsFunctions } from './entrypoint-settings.js';
import { runnerManagerLayout } from './layout.js';

export { EXIT_MISCONFIGURED };
export { RELAYED_DRIVER_LOG_DIR, RELAYED_DRIVER_LOG_FILE } from './layout.js';

/**
 * The runner-manager's `entrypoint` for a resolved spec. Its sections, separated by a blank line: the header comment
 * (the steps of a start), the script's variables, then the functions of each step, then the start itself, which
 * calls them in the header's order, and last the command, run as `runAs`.
 */
export function runnerManagerEntrypoint(spec: ResolvedRunnerManagerSpec): string {
  const layout = runnerManagerLayout(spec);
  return [
    entrypointHeader(spec, layout),
    scriptVariables(spec, layout),
    logFunctions(),
    secretFileFunction(),
    runnerIdentityFunctions(),
    privateCaFunction(layout),
    driverLogFunctions(),
    settingsFunctions(layout),
    legacyRegistrationFunction(),
    commandSelection(),
    startSteps(),
    runAsCommand(),
  ].join('\n\n');
}

/** No command, or only options: `gitlab-runner run` with them; that command needs gitlab-runner and the driver. */
function commandSelection(): string {
  return `if [[ $# -eq 0 || \${1:-} == -* ]]; then
  set -- gitlab-runner run --config "$RUNNER_CONFIG_PATH" --working-directory "$run_as_home" "$@"
fi

if [[ $1 == gitlab-runner ]]; then
  command -v gitlab-runner >/dev/null ||
    die "gitlab-runner is not installed in this image (built with INSTALL_GITLAB_RUNNER=false)" "rebuild with INSTALL_GITLAB_RUNNER=true"
  [[ -x $DRIVER_PATH ]] ||
    die "the driver $DRIVER_PATH is missing (image built with an empty DRIVER_BUNDLE)" "rebuild with the driver bundle in dist/ and DRIVER_BUNDLE naming it"
fi`;
}

/**
 * The start: secrets, private CA, settings parameter and manager ID, driver TOML, legacy registration, config.toml
 * (both files handed to the run-as user), runner identity, settings watcher, the tokens unset, the driver log relay.
 * The private CA comes before the settings parameter, whose read (SSM) must trust it; it needs nothing the
 * parameter may set (it refuses the CA variables as unknown names).
 */
function startSteps(): string {
  return `read_secret_file RUNNER_TOKEN
read_secret_file REGISTRATION_TOKEN
install_private_ca
apply_settings_parameter
export_manager_id
use_relayed_driver_log
gitlab-fargate-config render driver --out "$DRIVER_CONFIG_PATH"
if [[ -n \${REGISTRATION_TOKEN:-} ]]; then
  register_with_legacy_token
fi
gitlab-fargate-config render runner --out "$RUNNER_CONFIG_PATH"
# Not recursive: a CA mounted read-only under $config_dir/certs must stay as it is. gitlab-runner writes beside
# config.toml (.runner_system_id, token refreshes), so the folder is handed over too.
chown "$run_as:$(id -gn "$run_as")" "$config_dir" "$DRIVER_CONFIG_PATH" "$RUNNER_CONFIG_PATH"
export_runner_identity
start_settings_watcher
unset RUNNER_TOKEN REGISTRATION_TOKEN
log "rendered $DRIVER_CONFIG_PATH and $RUNNER_CONFIG_PATH"
start_driver_log_relay`;
}

/** The command, as the run-as user with its own HOME; exec, so that tini's signals reach it. */
function runAsCommand(): string {
  return `export HOME=$run_as_home USER=$run_as LOGNAME=$run_as
if [[ $run_as == root ]]; then
  exec "$@"
fi
exec setpriv --reuid="$run_as" --regid="$(id -gn "$run_as")" --init-groups "$@"
`;
}
