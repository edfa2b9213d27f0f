import { readConfigFile } from '../read-config-file.js';
import { parseDocument, type ParseOptions, type Parsed } from '../toml/document.js';
import type { DriverConfig } from './model.js';
import { driverSchema } from './schema.js';

/**
 * Parses and validates the driver's TOML. Keys match case-insensitively, as upstream's decoder does.
 * @throws ConfigError with every problem, each located at `file:line:column`.
 */
export function parseDriverConfig(text: string, options: ParseOptions = {}): Parsed<DriverConfig> {
  return parseDocument(text, driverSchema, options);
}

/**
 * Reads, parses and validates a driver TOML file. Anything but a regular file of at most 1 MiB is refused (a named
 * pipe is refused, not waited on).
 * @throws ConfigError, ConfigFileError, or the file system's error (e.g. `ENOENT`).
 */
export async function loadDriverConfig(path: string, options: Omit<ParseOptions, 'file'> = {}): Promise<Parsed<DriverConfig>> {
  return parseDriverConfig(await readConfigFile(path), { ...options, file: path });
}
