import { MANAGER_ID_VARIABLE, SETTINGS_PARAMETER_VARIABLE } from '../../manager/variables.js';
import type { RunnerManagerLayout } from './layout.js';

/**
 * The entrypoint's functions for the settings parameter (see the README's "Settings parameter, reloads and drains"),
 * in the order the start calls them: lay the parameter over the environment, export the manager ID, and, just before
 * the command runs, start the watcher.
 */
export function settingsFunctions(layout: RunnerManagerLayout): string {
  return [applySettingsParameterFunctions(layout), exportManagerIdFunction(layout), startSettingsWatcherFunction(layout)].join('\n\n');
}

/** `apply_settings_parameter`, and the trap that ends the start when a stop signal comes while it waits. */
function applySettingsParameterFunctions(layout: RunnerManagerLayout): string {
  return `# A stop while the start waits for its manager version: tini signals this shell alone, and bash ignores SIGQUIT (the
# image's stop signal) unless trapped. Nothing has started yet, so end the helper and exit 0, as a drain would.
stop_while_starting() {
  kill "$settings_helper" 2>/dev/null || true
  log "stop signal while waiting to start: exiting, gitlab-runner was never started"
  exit 0
}

# Lays the settings parameter's values over this environment. The helper checks every name (only setting
# variables) and ends each NAME=VALUE with a NUL, so values may hold any other byte. It runs in the background so
# that a stop signal ends its wait (bash runs a trap only once a foreground command ends, but interrupts \`wait\`).
apply_settings_parameter() {
  [[ -n \${${SETTINGS_PARAMETER_VARIABLE}:-} ]] || return 0
  local overlay entry name status=0
  overlay=$(mktemp)
  ${layout.managerCommand} settings --out "$overlay" >"$overlay.version" &
  settings_helper=$!
  trap stop_while_starting QUIT
  wait "$settings_helper" || status=$?
  trap - QUIT
  applied_settings_version=$(<"$overlay.version")
  rm -f "$overlay.version"
  if ((status != 0)); then
    rm -f "$overlay"
    exit "$status"
  fi
  while IFS= read -r -d '' entry; do
    name=\${entry%%=*}
    if [[ -n \${!name+set} ]]; then
      watcher_restore+=("$name=\${!name}")
    else
      watcher_unset+=(-u "$name")
    fi
    export "\${entry?}"
  done <"$overlay"
  rm -f "$overlay"
}`;
}

/** `export_manager_id`: the ID the driver tags each job task with. */
function exportManagerIdFunction(layout: RunnerManagerLayout): string {
  return `# The driver tags each job task with this manager's ID, by which a drain finds the jobs still running here.
export_manager_id() {
  local id
  id=$(${layout.managerCommand} manager-id) || exit $?
  export ${MANAGER_ID_VARIABLE}="$id"
}`;
}

/** `start_settings_watcher`: the watcher that re-renders both files when the parameter changes. */
function startSettingsWatcherFunction(layout: RunnerManagerLayout): string {
  return `# As $run_as, with the task definition's environment (and the token, to render config.toml); a child of this
# process, so it outlives the exec below as the command's child and ends with the container.
start_settings_watcher() {
  [[ -n \${${SETTINGS_PARAMETER_VARIABLE}:-} ]] || return 0
  as_run_as env -u REGISTRATION_TOKEN "\${watcher_unset[@]}" "\${watcher_restore[@]}" \\
    ${layout.managerCommand} watch --runner-pid $$ --config-cli ${layout.configCliCommand} \\
    --applied-version "$applied_settings_version" </dev/null &
}`;
}
