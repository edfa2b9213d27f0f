import { fencedLines, type MarkdownFile } from './markdown.js';

/** A `gitlab-fargate-*` command line shown in a fenced block. */
export interface ShownCommand {
  readonly file: string;
  readonly line: number;
  /** The command name, e.g. `gitlab-fargate-driver`. */
  readonly command: string;
  /** The words before the first option or argument that the CLI treats as a verb, e.g. `['custom', 'prepare']`. */
  readonly words: string[];
  /** Long and short options as written, without values: `--config`, `-h`. */
  readonly options: string[];
  /** The line as written. */
  readonly text: string;
}

// The command must be what a part of the line (split at shell operators) runs: after an optional prompt, `sudo`,
// `exec`, `npx`, `env` and variable assignments; a path before it is allowed (`./bin/`, `/usr/local/bin/`), and so
// is an opening quote or bracket (a command inside a JSON or `sh -c` string, or `$(...)`).
const COMMAND =
  /^\s*(?:(?:sudo|exec|env|npx(?:\s+--no-install)?|[A-Z_][A-Z0-9_]*=\S*)\s+)*(?:\$\(|[`"'(])?(?:\S*\/)?(gitlab-fargate-[a-z-]+)(?=\s|$|[)"'`])(.*)$/;

/** Shell operators that end one command and may start another. */
const OPERATOR = /\s(?:&&|\|\||\||;)\s|;\s|\s(?:>|2>|<)\s?/;

/**
 * The `gitlab-fargate-*` invocations in the fenced blocks of `files`: each part of a line between shell operators
 * that runs one, split into words (`$VAR` and quoted values kept as one word).
 */
export function shownCommands(files: readonly MarkdownFile[]): ShownCommand[] {
  const shown: ShownCommand[] = [];
  for (const file of files) {
    for (const fenced of fencedLines(file)) {
      if (/^\s*(?:#|\/\/)/.test(fenced.text)) continue; // a comment naming a command is not an invocation
      const line = fenced.text.replace(/^\s*[$>]\s+/, '').replace(/\s#\s.*$/, '');
      for (const part of line.split(OPERATOR)) {
        const match = COMMAND.exec(part);
        if (match === null || match[1]!.endsWith('-')) continue;
        const tokens = words(match[2]!.replace(/\)\s*$/, ''));
        const [command, text] = [match[1]!, fenced.text.trim()];
        shown.push({ file: file.path, line: fenced.line, command, words: verbWords(tokens), options: optionsOf(tokens), text });
      }
    }
  }
  return shown;
}

/**
 * Options without their values. A synopsis writes optional options in brackets (`[--dry-run]`), and a command inside
 * a quoted string ends with the quote (`--dry-run"`): both show `--dry-run`.
 */
function optionsOf(tokens: readonly string[]): string[] {
  return tokens
    .map((token) => token.replace(/^\[+|[\]"',;)`]+$/g, ''))
    .filter((token) => /^--?[A-Za-z]/.test(token))
    .map((token) => token.split('=')[0]!);
}

function words(text: string): string[] {
  return [...text.matchAll(/"(?:[^"\\]|\\.)*"|'[^']*'|\S+/g)].map((match) => match[0]);
}

/**
 * The plain words (`custom prepare`, `render driver`, `gc`), which the CLIs read as verbs wherever the options are:
 * an option's value (a path, a number, a variable) is skipped, and so is a synopsis' `[options]`.
 */
function verbWords(tokens: readonly string[]): string[] {
  const verbs: string[] = [];
  let afterOption = false;
  for (const token of tokens) {
    const isOption = /^--?[A-Za-z]/.test(token);
    // `--out images`: a word right after an option is its value (docs write `--flag=value` for a switch and a verb).
    const isValue = afterOption;
    afterOption = isOption && !token.includes('=');
    if (isOption || isValue || /^\[[^\]]*\]$/.test(token)) continue;
    if (!/^[a-z][a-z-]*$/.test(token)) {
      if (/^[./$"'~]|[/=A-Z0-9]/.test(token)) continue; // an option's value or an argument
      break;
    }
    verbs.push(token);
  }
  return verbs;
}
