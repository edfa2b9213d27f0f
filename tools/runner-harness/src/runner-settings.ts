/** What the harness needs from one `[[runners]]` entry of gitlab-runner's config.toml. */
export interface RunnerSettings {
  readonly name: string;
  readonly url: string;
  readonly token: string;
  readonly buildsDir: string;
  readonly cacheDir: string;
  /** `KEY=value` pairs that become job variables (`[[runners]] environment`). */
  readonly environment: readonly string[];
  readonly custom: CustomExecutorSettings;
}

/** `[runners.custom]`, with gitlab-runner's defaults already applied. Timeouts are in seconds. */
export interface CustomExecutorSettings {
  readonly configExec?: string;
  readonly configArgs: readonly string[];
  readonly configExecTimeout: number;
  readonly prepareExec?: string;
  readonly prepareArgs: readonly string[];
  readonly prepareExecTimeout: number;
  readonly runExec: string;
  readonly runArgs: readonly string[];
  readonly cleanupExec?: string;
  readonly cleanupArgs: readonly string[];
  readonly cleanupExecTimeout: number;
  readonly gracefulKillTimeout: number;
  readonly forceKillTimeout: number;
}

/** gitlab-runner's defaults (executors/custom/consts.go, helpers/process/killer.go): the code, not the docs. */
export const customExecutorDefaults = {
  configExecTimeout: 3600,
  prepareExecTimeout: 3600,
  cleanupExecTimeout: 3600,
  gracefulKillTimeout: 600,
  forceKillTimeout: 10,
} as const;

/**
 * The runner's short token as GitLab derives `CI_RUNNER_SHORT_TOKEN`: the first characters of the token
 * after its `glrt-` prefix (authentication tokens) or of the token itself (legacy ones).
 */
export function shortToken(token: string): string {
  const withoutPrefix = token.startsWith('glrt-') ? token.slice('glrt-'.length).replace(/^t\d_/, '') : token;
  return withoutPrefix.slice(0, 8);
}
