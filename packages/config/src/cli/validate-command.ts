import { parseArgs } from 'node:util';
import { ConfigError, ConfigFileError, formatIssues, type ConfigIssue } from '../errors.js';
import type { DriverConfig } from '../driver/model.js';
import { driverSchema } from '../driver/schema.js';
import type { RunnerConfig } from '../runner/model.js';
import { runnerSchema } from '../runner/schema.js';
import { readConfigFile } from '../read-config-file.js';
import { parseToml, validateValue, type ParseOptions } from '../toml/document.js';
import { detectKind, type ConfigKind } from './detect-kind.js';
import { VALIDATE_HELP } from './help.js';
import { EXIT, type Output } from './output.js';
import { UsageError } from './usage-error.js';

function undetectable(file: string): ConfigError {
  const found = 'neither a [Fargate] table nor [[runners]]';
  return new ConfigError([
    { file, line: 1, column: 1, path: '', expected: 'a driver or runner configuration', found, message: `expected a driver or runner configuration, found ${found}; pass --kind driver|runner`, severity: 'error' },
  ]);
}

type Validated = { kind: 'driver'; config: DriverConfig; warnings: readonly ConfigIssue[] } | { kind: 'runner'; config: RunnerConfig; warnings: readonly ConfigIssue[] };

/** Validates one file. @throws ConfigError */
function validateText(file: string, text: string, forced: ConfigKind | undefined, strict: boolean): Validated {
  const document = parseToml(text, file);
  const kind = forced ?? detectKind(document);
  if (kind === undefined) throw undetectable(file);
  const options: ParseOptions = { file, strict };
  return kind === 'driver' ? { kind, ...validateValue(document, text, driverSchema, options) } : { kind, ...validateValue(document, text, runnerSchema, options) };
}

/** Why a file could not be read: our own reason for a refused file, else the system's error code. */
function unreadable(error: unknown): string {
  if (error instanceof ConfigFileError) return error.message;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** The normalized file for --print; the renderers are loaded only for it. */
async function normalized(result: Validated): Promise<string> {
  if (result.kind === 'driver') return (await import('../driver/render.js')).renderDriverConfig(result.config);
  return (await import('../runner/render.js')).renderRunnerConfig(result.config, { redactSecrets: true });
}

/** `validate FILE...`: reports every problem of every file; exit 2 when any file is invalid (with --strict, an unknown key too). */
export async function validateCommand(args: readonly string[], output: Output): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { kind: { type: 'string' }, print: { type: 'boolean' }, strict: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`validate: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    output.out(VALIDATE_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('validate: expected at least one FILE');
  const kind = values.kind;
  if (kind !== undefined && kind !== 'driver' && kind !== 'runner') throw new UsageError(`validate: --kind: expected "driver" or "runner", found ${JSON.stringify(kind)}`);

  let exit: number = EXIT.ok;
  for (const file of positionals) {
    let text: string;
    try {
      text = await readConfigFile(file);
    } catch (error) {
      output.err(`${file}: cannot read: ${unreadable(error)}\n`);
      exit = EXIT.invalid;
      continue;
    }
    try {
      const result = validateText(file, text, kind, values.strict === true);
      if (result.warnings.length > 0) output.err(`${formatIssues(result.warnings)}\n`);
      const note = result.warnings.length > 0 ? ` (${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'})` : '';
      if (values.print === true) output.out(await normalized(result));
      else output.out(`${file}: valid ${result.kind} configuration${note}\n`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      output.err(`${formatIssues(error.issues)}\n`);
      const errors = error.issues.filter((issue) => issue.severity === 'error').length;
      output.err(`${file}: invalid (${errors} error${errors === 1 ? '' : 's'})\n`);
      exit = EXIT.invalid;
    }
  }
  return exit;
}
