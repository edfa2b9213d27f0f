import { readConfigFile } from '../read-config-file.js';
import { parseDocument, type ParseOptions, type Parsed } from '../toml/document.js';
import type { RunnerConfig } from './model.js';
import { runnerSchema } from './schema.js';

/**
 * Parses and validates gitlab-runner's config.toml for custom-executor runners. A token that is not a
 * `glrt-` runner authentication token is accepted with a warning; the token itself never appears in issues.
 * @throws ConfigError with every problem, each located at `file:line:column`.
 */
export function parseRunnerConfig(text: string, options: ParseOptions = {}): Parsed<RunnerConfig> {
  return parseDocument(text, runnerSchema, options);
}

/**
 * Reads, parses and validates a runner config.toml. Anything but a regular file of at most 1 MiB is refused (a named
 * pipe is refused, not waited on).
 * @throws ConfigError, ConfigFileError, or the file system's error (e.g. `ENOENT`).
 */
export async function loadRunnerConfig(path: string, options: Omit<ParseOptions, 'file'> = {}): Promise<Parsed<RunnerConfig>> {
  return parseRunnerConfig(await readConfigFile(path), { ...options, file: path });
}
