import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { driverSchema } from '../driver/schema.js';
import { renderDriverConfig } from '../driver/render.js';
import { runnerSchema } from '../runner/schema.js';
import { renderRunnerConfig } from '../runner/render.js';
import { Checker, ROOT, type PendingIssue } from '../schema/checker.js';
import { RENDER_HELP, renderKindHelp } from './help.js';
import { EXIT, type Output } from './output.js';
import { DRIVER_INPUTS, RUNNER_INPUTS, type RenderInput, type RenderKind } from './render-inputs.js';
import { UsageError } from './usage-error.js';
import { writeFileAtomic } from './write-atomic.js';

type Environment = Readonly<Record<string, string | undefined>>;

function coveredBy(path: string, covers: string): boolean {
  return path === covers || path.startsWith(`${covers}.`) || path.startsWith(`${covers}[`);
}

/** Names the flag and variable behind an issue, since the person fixes those, not a TOML key. */
function formatRenderIssue(kind: string, issue: PendingIssue, inputs: readonly RenderInput[]): string {
  const input = inputs.find((candidate) => candidate.covers.some((covers) => coveredBy(issue.at.display, covers)));
  const source = input === undefined ? '' : `--${input.flag} (${input.env}): `;
  return `render ${kind}: ${issue.severity}: ${source}${issue.at.display}: ${issue.message}\n`;
}

function collectValues(kind: RenderKind, flags: Readonly<Record<string, unknown>>, env: Environment): Map<string, string> {
  const values = new Map<string, string>();
  for (const input of kind.inputs) {
    const flag = flags[input.flag];
    const given = [typeof flag === 'string' ? flag : undefined, env[input.env]].find((value) => value !== undefined && value !== '');
    const value = given ?? input.default?.();
    if (value !== undefined) values.set(input.flag, value);
  }
  return values;
}

/** Validates the document built from the inputs and renders it; undefined when it is invalid. */
function validateAndRender(kind: 'driver' | 'runner', built: ReturnType<RenderKind['build']>, checker: Checker): string | undefined {
  if (kind === 'driver') {
    const config = driverSchema.read(built.document, ROOT, checker);
    return config === undefined ? undefined : renderDriverConfig(config);
  }
  const config = runnerSchema.read(built.document, ROOT, checker);
  return config === undefined ? undefined : renderRunnerConfig(config, built.header === undefined ? {} : { header: built.header });
}

/** `render driver|runner`: flags and environment → validated TOML, written atomically with mode 0600. */
export async function renderCommand(args: readonly string[], env: Environment, output: Output): Promise<number> {
  const [kindName, ...rest] = args;
  if (kindName === undefined || kindName === '--help' || kindName === '-h') {
    output.out(RENDER_HELP);
    return kindName === undefined ? EXIT.invalid : EXIT.ok;
  }
  if (kindName !== 'driver' && kindName !== 'runner') throw new UsageError(`render: expected "driver" or "runner", found ${JSON.stringify(kindName)}`);
  const kind = kindName === 'driver' ? DRIVER_INPUTS : RUNNER_INPUTS;

  const options: Record<string, { type: 'string' | 'boolean' }> = { out: { type: 'string' }, help: { type: 'boolean' } };
  for (const input of kind.inputs) options[input.flag] = { type: 'string' };
  let flags: Record<string, unknown>;
  try {
    flags = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs quotes a stray argument, which may be a token given without its flag: never echo it.
    const stray = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL';
    const message = stray ? 'expected only --flag VALUE pairs, found a value without its flag (not shown, as it may be a secret)' : (error as Error).message;
    throw new UsageError(`render ${kindName}: ${message}; see "gitlab-fargate-config render ${kindName} --help"`);
  }
  if (flags['help'] === true) {
    output.out(renderKindHelp(kindName, kind));
    return EXIT.ok;
  }

  // `--out -` is standard output, as for most Unix tools; it must never create a file named "-".
  const out = flags['out'] === '-' ? undefined : flags['out'];
  if (typeof out === 'string' && out !== '') {
    const directory = dirname(out);
    const isDirectory = await stat(directory).then((info) => info.isDirectory(), () => false);
    if (!isDirectory) throw new UsageError(`render ${kindName}: --out: expected a path in an existing directory, found ${JSON.stringify(out)} (no directory ${JSON.stringify(directory)})`);
  }

  const checker = new Checker();
  const text = validateAndRender(kindName, kind.build(collectValues(kind, flags, env)), checker);
  for (const issue of checker.issues) output.err(formatRenderIssue(kindName, issue, kind.inputs));
  if (text === undefined || checker.hasErrors) {
    output.err(`render ${kindName}: nothing written; see "gitlab-fargate-config render ${kindName} --help"\n`);
    return EXIT.invalid;
  }

  if (typeof out === 'string' && out !== '') {
    await writeFileAtomic(out, text, 0o600);
  } else {
    output.out(text);
  }
  return EXIT.ok;
}
