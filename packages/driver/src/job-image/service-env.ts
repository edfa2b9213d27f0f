import { expandVariables } from './expand.js';
import type { JobService, JobVariable } from './payload.js';

/** One environment entry, in ECS's shape. */
export interface EnvironmentEntry {
  readonly name: string;
  readonly value: string;
}

/** A service container's environment. */
export interface ServiceEnvironment {
  /** The job's public variables, then the service's own (a later name replaces an earlier one). */
  readonly environment: readonly EnvironmentEntry[];
  /** How many of `environment` are the service's own `variables:` (the last ones): never dropped to fit a limit. */
  readonly ownCount: number;
  /** Names the service's variables referred to that are withheld (masked, protected or file) or unknown: expanded to "". */
  readonly withheld: readonly string[];
}

/**
 * Whether a job variable may leave the runner for a service: RunTask overrides are readable by anyone allowed
 * `ecs:DescribeTasks`, so only public variables (the `.gitlab-ci.yml` and predefined ones) go, never masked, protected
 * (not public) or file variables.
 */
export function isSendable(variable: JobVariable): boolean {
  return variable.public && !variable.masked && !variable.file;
}

/** Entries in order, a later name replacing an earlier one in place of the earlier. */
function lastWins(entries: readonly EnvironmentEntry[]): EnvironmentEntry[] {
  const byName = new Map<string, EnvironmentEntry>();
  for (const entry of entries) {
    byName.delete(entry.name);
    byName.set(entry.name, entry);
  }
  return [...byName.values()];
}

/**
 * A service's environment, as gitlab-runner builds it (`GetServiceVariables` in
 * https://github.com/gitlabhq/gitlab-runner/blob/main/common/build.go): the job's public variables as they are, plus
 * the service's own `variables:` expanded (unless raw). Unlike gitlab-runner, which expands them against every job
 * variable, they are expanded against the sendable ones only, so a masked or protected value cannot reach the service
 * (and the RunTask call) through a reference: such a reference expands to "" and is listed in `withheld`.
 */
export function serviceEnvironment(service: JobService, jobVariables: readonly JobVariable[]): ServiceEnvironment {
  const sendable = jobVariables.filter(isSendable);
  const source = [...sendable, ...service.variables];
  const withheld = new Set<string>();
  const own = service.variables.map((variable): EnvironmentEntry => {
    if (variable.raw) return { name: variable.key, value: variable.value };
    const expanded = expandVariables(variable.value, source);
    for (const name of expanded.missing) withheld.add(name);
    return { name: variable.key, value: expanded.value };
  });
  const ownEntries = lastWins(own);
  const ownNames = new Set(ownEntries.map((entry) => entry.name));
  const inherited = lastWins(sendable.map((variable) => ({ name: variable.key, value: variable.value })));
  const kept = inherited.filter((entry) => !ownNames.has(entry.name));
  return { environment: [...kept, ...ownEntries], ownCount: ownEntries.length, withheld: [...withheld] };
}
