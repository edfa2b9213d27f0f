/**
 * Bash stage scripts framed exactly as gitlab-runner's `BashWriter.Finish` frames them, in both forms drivers
 * meet in production. Drivers get nothing friendlier from the harness than from the runner.
 *
 * - `19.1` (gitlab-runner 19.1 and later, the default): `trap 'exit 1' TERM`, a `case` pipefail probe, and the
 *   body run as `(trap 'exit 1' TERM; eval $'…') < /dev/null`
 *   (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v19.1.0/shells/bash.go).
 * - `19.0` (19.0 and earlier): `trap exit 1 TERM` (which traps HUP and TERM with a bare `exit`), a `grep`
 *   pipefail probe, and `: | eval $'…'`. (19.1+ with `FF_USE_LEGACY_BASH_EVAL` keeps 19.1's trap and probe
 *   around `: | eval`: not written here.)
 *   (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v19.0.0/shells/bash.go).
 *
 * The body is the runner's too in shape: `export` of every job variable, `cd` into the project folder, and each
 * command echoed in green before it runs. It is not the runner's body in full (no git, cache or artifact
 * commands, no feature-flag variables): the harness has no GitLab server behind it.
 */

/** Which gitlab-runner's stage scripts to write. */
export type ScriptShape = '19.1' | '19.0';

/** The default shape: the one current gitlab-runner releases write. */
export const defaultScriptShape: ScriptShape = '19.1';

// How gitlab-runner's helpers.ShellEscape treats each byte (helpers/shell_escape.go): letters, digits and
// `,-./@_` stay as they are; shell syntax stays but makes the word quoted; a few control characters and the
// quote and backslash get C escapes; every other byte (other controls, DEL, all non-ASCII) becomes \xHH.
const literalBytes = /^[A-Za-z0-9,\-./@_]$/;
const quotedBytes = new Set(' !"#$%&()*+:;<=>?[]^`{|}~');
const cEscapes: Record<number, string> = {
  0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0b: '\\v', 0x0c: '\\f', 0x0d: '\\r', 0x27: "\\'", 0x5c: '\\\\',
};

/**
 * Quotes text for bash as gitlab-runner does: unchanged when nothing needs quoting, `''` when empty, otherwise
 * an ANSI-C `$'…'` string with non-ASCII bytes hex-escaped.
 */
export function shellEscape(text: string): string {
  if (text === '') return "''";
  let out = '';
  let needsQuotes = false;
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && literalBytes.test(char)) {
      out += char;
    } else if (quotedBytes.has(char)) {
      out += char;
      needsQuotes = true;
    } else {
      out += cEscapes[byte] ?? `\\x${byte.toString(16).padStart(2, '0')}`;
      needsQuotes = true;
    }
  }
  return needsQuotes ? `$'${out}'` : out;
}

const green = '\u001b[32;1m';
const reset = '\u001b[0;m';

/** How a stage exports the job's variables (shells/abstract.go `exportVariables`). */
export type ExportMode = 'all' | 'paths-only' | 'none';

/** What one stage script does. */
export interface StageScriptOptions {
  /** The job's variables, exported before the body (as `exports` says). */
  readonly variables: Readonly<Record<string, string>>;
  /**
   * `all`: every variable, file variables written to files first (`writeExports`: get_sources to after_script
   * and the cache and artifact stages); `paths-only`: file variables as their paths only (`writeEnvExports`:
   * cleanup_file_variables); `none` (prepare_script).
   * @default 'all'
   */
  readonly exports?: ExportMode;
  /**
   * Which of `variables` are file variables: their value is written to `<temporaryPath>/<NAME>` with `printf` and
   * the variable holds the path.
   * @default []
   */
  readonly fileVariables?: readonly string[];
  /**
   * gitlab-runner's temporary folder for the job, `<project dir>.tmp`: where file variables and `GITLAB_ENV` live.
   * @default - none: no file variables are written and no GITLAB_ENV is set up
   */
  readonly temporaryPath?: string;
  /** Lines of the body, already bash. */
  readonly body: readonly string[];
  /** Folder to `cd` into before the body (it must exist: get_sources creates the project folder). */
  readonly workingDirectory?: string;
  /**
   * Which gitlab-runner's framing to use.
   * @default '19.1'
   */
  readonly shape?: ScriptShape;
}

/** Renders a complete stage script, as the file gitlab-runner hands to `run_exec`. */
export function stageScript(options: StageScriptOptions): string {
  const lines = exportLines(options);
  if (options.workingDirectory !== undefined) lines.push(`cd ${shellEscape(options.workingDirectory)}`);
  lines.push(...options.body);
  return frameScript(lines.map((line) => `${line}\n`).join(''), options.shape ?? defaultScriptShape);
}

/**
 * The variable exports at the head of a stage body, as `BashWriter.Variable` and `SourceEnv` write them: `export
 * NAME=<ShellEscape(value)>`; a file variable as `mkdir -p`, `printf '%s' … > file` and `export NAME="file"`; then
 * `GITLAB_ENV` and the loop that exports what earlier stages appended to it.
 */
export function exportLines(options: Pick<StageScriptOptions, 'variables' | 'exports' | 'fileVariables' | 'temporaryPath'>): string[] {
  const mode = options.exports ?? 'all';
  if (mode === 'none') return [];
  const tmp = options.temporaryPath;
  const lines: string[] = [];
  for (const [name, value] of Object.entries(options.variables)) {
    if (tmp === undefined || !options.fileVariables?.includes(name)) {
      lines.push(`export ${shellEscape(name)}=${shellEscape(value)}`);
    } else if (mode === 'all') {
      lines.push(`mkdir -p ${goQuote(tmp)}`, `printf '%s' ${shellEscape(value)} > ${goQuote(`${tmp}/${name}`)}`, `export ${shellEscape(name)}=${goQuote(`${tmp}/${name}`)}`);
    } else {
      lines.push(`export ${shellEscape(name)}=${shellEscape(`${tmp}/${name}`)}`);
    }
  }
  if (tmp !== undefined) {
    const envFile = `${tmp}/${gitlabEnvFileName}`;
    lines.push(`export GITLAB_ENV=${shellEscape(envFile)}`, `mkdir -p ${goQuote(tmp)}`, `touch ${goQuote(envFile)}`,
      `while read -r line; do export "$line"; done < ${goQuote(envFile)}`);
  }
  return lines;
}

/** The file under the temporary folder that `GITLAB_ENV` names. */
export const gitlabEnvFileName = 'gitlab_runner_env';

/** `rm -f` of a file as `BashWriter.RmFile` writes it (`CommandArgExpand`: every word double-quoted). */
export function rmFile(path: string): string {
  return `rm "-f" "${path}"`;
}

/** Go's `%q` for the plain paths it quotes here (JSON's quoting agrees with Go's on printable text). */
function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** `BashWriter.Finish` for a bash shell without tracing: the frame around the escaped body. */
export function frameScript(body: string, shape: ScriptShape): string {
  const escaped = shellEscape(body);
  if (shape === '19.0') {
    return '#!/usr/bin/env bash\n\ntrap exit 1 TERM\n\n' +
      'if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; set -o errexit\n' +
      `set +o noclobber\n: | eval ${escaped}\nexit 0\n`;
  }
  return "#!/usr/bin/env bash\n\ntrap 'exit 1' TERM\n\n" +
    'case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit\n' +
    `set +o noclobber\n(trap 'exit 1' TERM; eval ${escaped}) < /dev/null\nexit 0\n`;
}

/**
 * Body lines for the user's commands as `writeCommands` writes them: each echoed in green (`$ command`; a
 * multi-line command shows its first line), then run.
 */
export function userCommands(commands: readonly string[]): string[] {
  return commands.flatMap((raw) => {
    const command = raw.trim();
    if (command === '') return ['echo', ''];
    const [firstLine, ...more] = command.split('\n');
    const shown = more.length === 0 ? `$ ${command}` : `$ ${firstLine} # collapsed multi-line command`;
    return [`echo ${shellEscape(`${green}${shown}${reset}`)}`, command];
  });
}
