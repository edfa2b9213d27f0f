import { ConfigError, formatIssues, loadRunnerConfig } from '@gitlab-fargate/config';
import type { RunnerSettings } from './runner-settings.js';

/** The config.toml cannot be used, or has no runner by the name asked for. */
export class RunnerSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerSelectionError';
  }
}

/** Reads gitlab-runner's config.toml and picks one `[[runners]]` entry: by name, or the first. */
export async function loadRunnerSettings(path: string, runnerName?: string): Promise<RunnerSettings> {
  const parsed = await loadRunnerConfig(path).catch((error: unknown) => {
    if (error instanceof ConfigError) throw new RunnerSelectionError(`invalid runner configuration:\n${formatIssues(error.issues)}`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunnerSelectionError(`${path}: cannot read the runner configuration (${code ?? String(error)})`);
  });
  if (parsed.warnings.length > 0) process.stderr.write(`${formatIssues(parsed.warnings)}\n`);
  const runners = parsed.config.runners;
  const runner = runnerName === undefined ? runners[0] : runners.find((entry) => entry.name === runnerName);
  if (!runner) {
    const names = runners.map((entry) => `"${entry.name}"`).join(', ');
    throw new RunnerSelectionError(`${path}: no [[runners]] entry is named "${runnerName}" (the file has ${names})`);
  }
  return runner;
}
