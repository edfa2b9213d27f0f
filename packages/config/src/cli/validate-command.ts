import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssues, type ConfigIssue } from '../errors.js';
import { renderDriverConfig } from '../driver/render.js';
import { driverSchema } from '../driver/schema.js';
import { renderRunnerConfig } from '../runner/render.js';
import { runnerSchema } from '../runner/schema.js';
import { parseToml, validateValue } from '../toml/document.js';
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

/** Validates one file; returns the normalized text for --print. @throws ConfigError */
function validateText(file: string, text: string, forced: ConfigKind | undefined): { kind: ConfigKind; warnings: readonly ConfigIssue[]; normalized: string } {
  const document = parseToml(text, file);
  const kind = forced ?? detectKind(document);
  if (kind === undefined) throw undetectable(file);
  if (kind === 'driver') {
    const { config, warnings } = validateValue(document, text, driverSchema, file);
    return { kind, warnings, normalized: renderDriverConfig(config) };
  }
  const { config, warnings } = validateValue(document, text, runnerSchema, file);
  return { kind, warnings, normalized: renderRunnerConfig(config, { redactSecrets: true }) };
}

/** `validate FILE...`: reports every problem of every file; exit 2 when any file is invalid. */
export async function validateCommand(args: readonly string[], output: Output): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { kind: { type: 'string' }, print: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true, allowPositionals: true });
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
      text = await readFile(file, 'utf8');
    } catch (error) {
      output.err(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
      exit = EXIT.invalid;
      continue;
    }
    try {
      const result = validateText(file, text, kind);
      if (result.warnings.length > 0) output.err(`${formatIssues(result.warnings)}\n`);
      const note = result.warnings.length > 0 ? ` (${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'})` : '';
      if (values.print === true) output.out(result.normalized);
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
