/**
 * Bash scripts shaped like the ones gitlab-runner's BashWriter generates for each stage: a TERM trap,
 * errexit and pipefail, and the body run through `eval` of an ANSI-C quoted string with stdin closed.
 * Drivers meet exactly this shape in production, so the harness gives them nothing friendlier.
 */

/** Quotes text for bash as `$'...'`, the way gitlab-runner escapes script bodies. */
export function ansiCQuote(text: string): string {
  let quoted = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\') quoted += '\\\\';
    else if (char === "'") quoted += "\\'";
    else if (char === '\n') quoted += '\\n';
    else if (char === '\t') quoted += '\\t';
    else if (char === '\r') quoted += '\\r';
    else if (code < 0x20 || code === 0x7f) quoted += `\\x${code.toString(16).padStart(2, '0')}`;
    else quoted += char;
  }
  return `$'${quoted}'`;
}

const green = '\u001b[32;1m';
const reset = '\u001b[0;m';

/** What one stage script does. */
export interface StageScriptOptions {
  /** Variables exported before the body, as gitlab-runner exports every job variable in every stage. */
  readonly variables: Readonly<Record<string, string>>;
  /** Lines of the body, already bash. */
  readonly body: readonly string[];
  /** Folder to enter before the body; created when missing. */
  readonly workingDirectory?: string;
}

/** Renders a complete stage script. */
export function stageScript(options: StageScriptOptions): string {
  const body: string[] = [];
  for (const [name, value] of Object.entries(options.variables)) {
    body.push(`export ${name}=${ansiCQuote(value)}`);
  }
  if (options.workingDirectory) {
    body.push(`mkdir -p ${ansiCQuote(options.workingDirectory)}`, `cd ${ansiCQuote(options.workingDirectory)}`);
  }
  body.push(...options.body);
  return [
    '#!/usr/bin/env bash',
    '',
    "trap 'exit 1' TERM",
    '',
    'case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit',
    'set +o noclobber',
    `: | (eval ${ansiCQuote(`${body.join('\n')}\n`)})`,
    'exit 0',
    '',
  ].join('\n');
}

/** Body lines that echo each command in green, as the job log shows it, then run it. */
export function userCommands(commands: readonly string[]): string[] {
  return commands.flatMap((command) => [`echo ${ansiCQuote(`${green}$ ${command}${reset}`)}`, command]);
}
