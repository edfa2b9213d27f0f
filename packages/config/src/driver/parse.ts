import { readFile } from 'node:fs/promises';
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

/** Reads, parses and validates a driver TOML file. @throws ConfigError, or the file system's error. */
export async function loadDriverConfig(path: string): Promise<Parsed<DriverConfig>> {
  return parseDriverConfig(await readFile(path, 'utf8'), { file: path });
}
