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

// The command must be what the line (or a part of it after a shell operator) runs: after an optional prompt,
// `sudo`, `exec`, `npx`, `env` and variable assignments; a path before it is allowed (`./bin/`, `/usr/local/bin/`).
const COMMAND =
  /(?:^|&&|\|\||[;|`]|\$\()\s*(?:(?:sudo|exec|env|npx(?:\s+--no-install)?|[A-Z_][A-Z0-9_]*=\S*)\s+)*(?:\S*\/)?(gitlab-fargate-[a-z-]+)(?=\s|$|\))(.*)$/;

/**
 * The `gitlab-fargate-*` invocations in the fenced blocks of `files`: the part of the line after the command, up to
 * a shell operator, split into words (`$VAR` and quoted values kept as one word).
 */
export function shownCommands(files: readonly MarkdownFile[]): ShownCommand[] {
  const shown: ShownCommand[] = [];
  for (const file of files) {
    for (const fenced of fencedLines(file)) {
      if (/^\s*(?:#|\/\/)/.test(fenced.text)) continue; // a comment naming a command is not an invocation
      const text = fenced.text.replace(/^\s*[$>]\s+/, '');
      const match = COMMAND.exec(text);
      if (match === null || match[1]!.endsWith('-')) continue;
      const rest = match[2]!.replace(/\s#\s.*$/, '').split(/\s(?:\||&&|\|\||;|>|2>|<)\s?|\)\s*$/)[0]!;
      const tokens = words(rest);
      // A synopsis writes optional options in brackets: `[--dry-run]` shows `--dry-run`.
      const options = tokens.map((token) => token.replace(/^\[+|\]+$/g, '')).filter((token) => /^--?[A-Za-z]/.test(token)).map((token) => token.split('=')[0]!);
      shown.push({ file: file.path, line: fenced.line, command: match[1]!, words: verbWords(tokens), options, text: fenced.text.trim() });
    }
  }
  return shown;
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
