import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One Markdown file of the repository, read once. */
export interface MarkdownFile {
  /** Path relative to the repository root, with `/`. */
  readonly path: string;
  readonly text: string;
}

/** A link written in a Markdown file (outside fenced code blocks). */
export interface MarkdownLink {
  readonly line: number;
  readonly target: string;
}

/** A command line shown in a fenced code block. */
export interface FencedLine {
  readonly line: number;
  readonly text: string;
}

/** Every Markdown file git tracks (or would track: new, not ignored), so generated and vendored files stay out. */
export function trackedMarkdownFiles(root: string): MarkdownFile[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return [...new Set(listed.split('\0').filter((path) => path !== ''))]
    .filter((path) => !path.includes('node_modules/'))
    .map((path) => ({ path, text: safeRead(join(root, path)) }))
    .filter((file): file is MarkdownFile => file.text !== undefined);
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // listed but deleted in the working tree
  }
}

interface Line {
  readonly number: number;
  readonly text: string;
  readonly fenced: boolean;
}

/** The file's lines, each marked as inside a fenced code block (``` or ~~~) or not. */
function classifyLines(text: string): Line[] {
  let fence: string | undefined;
  return text.split('\n').map((raw, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return { number: index + 1, text: raw, fenced: true };
    }
    return { number: index + 1, text: raw, fenced: fence !== undefined };
  });
}

/** Inline links `[text](target)`, images, and reference definitions `[name]: target`, outside code. */
export function linksOf(file: MarkdownFile): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const line of classifyLines(file.text)) {
    if (line.fenced) continue;
    const prose = line.text.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: line.number, target: match[1]! });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(prose);
    if (definition !== null) links.push({ line: line.number, target: definition[1]! });
  }
  return links;
}

/** `id` and `name` attributes of HTML anchors outside code (`<a name="X" id="Y"></a>`, as jsii-docgen writes them). */
export function htmlAnchorsOf(file: MarkdownFile): string[] {
  return classifyLines(file.text)
    .filter((line) => !line.fenced)
    .flatMap((line) => [...line.text.matchAll(/<a\s[^>]*>/g)])
    .flatMap((tag) => [...tag[0].matchAll(/\b(?:id|name)="([^"]+)"/g)].map((match) => match[1]!));
}

/** Headings outside code, as written (ATX `#` headings only: the repository uses no others). */
export function headingsOf(file: MarkdownFile): string[] {
  return classifyLines(file.text)
    .filter((line) => !line.fenced)
    .map((line) => /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line.text)?.[1])
    .filter((heading): heading is string => heading !== undefined);
}

/** Lines inside fenced code blocks, with shell continuations (`\` at the end) joined into one line. */
export function fencedLines(file: MarkdownFile): FencedLine[] {
  const result: FencedLine[] = [];
  let pending: FencedLine | undefined;
  for (const line of classifyLines(file.text)) {
    if (!line.fenced || /^\s*(`{3,}|~{3,})/.test(line.text)) {
      pending = undefined;
      continue;
    }
    const current: FencedLine = pending === undefined ? { line: line.number, text: line.text } : { ...pending, text: `${pending.text} ${line.text.trim()}` };
    if (current.text.trimEnd().endsWith('\\')) {
      pending = { ...current, text: current.text.trimEnd().slice(0, -1) };
      continue;
    }
    pending = undefined;
    result.push(current);
  }
  return result;
}
