import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { headingAnchors } from './anchors.js';
import { headingsOf, htmlAnchorsOf, linksOf, type MarkdownFile } from './markdown.js';

/** A link that does not resolve, with where it is written and why. */
export interface BrokenLink {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly problem: string;
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** Every relative link and anchor of `files` that points nowhere (external URLs are not fetched). */
export function brokenLinks(root: string, files: readonly MarkdownFile[]): BrokenLink[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const anchorsOf = memoize((path: string) => {
    const file = byPath.get(path) ?? { path, text: '' };
    return new Set([...headingAnchors(headingsOf(file)), ...htmlAnchorsOf(file).map((id) => id.toLowerCase())]);
  });
  const broken: BrokenLink[] = [];
  for (const file of files) {
    for (const link of linksOf(file)) {
      if (EXTERNAL.test(link.target)) continue;
      const problem = checkTarget(root, file.path, link.target, byPath, anchorsOf);
      if (problem !== undefined) broken.push({ file: file.path, line: link.line, target: link.target, problem });
    }
  }
  return broken;
}

function checkTarget(
  root: string,
  from: string,
  target: string,
  files: ReadonlyMap<string, MarkdownFile>,
  anchorsOf: (path: string) => Set<string>,
): string | undefined {
  const [rawPath = '', anchor] = target.split('#', 2);
  const path = rawPath === '' ? from : normalize(join(dirname(from), decodeURIComponent(rawPath))).replace(/\\/g, '/');
  if (path.startsWith('..')) return 'points outside the repository';
  if (rawPath !== '' && !existsSync(join(root, path))) return `${path} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!files.has(path)) {
    return statSync(join(root, path)).isDirectory() ? `${path} is a folder: an anchor needs a Markdown file` : undefined;
  }
  return anchorsOf(path).has(decodeURIComponent(anchor).toLowerCase()) ? undefined : `${path} has no heading with the anchor #${anchor}`;
}

function memoize<T>(compute: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, compute(key));
    return cache.get(key)!;
  };
}
