/**
 * Image allow-list patterns with gitlab-runner's `allowed_images` / `allowed_services` semantics.
 *
 * gitlab-runner checks a job's image with `doublestar.Match(pattern, image)` (bmatcuk/doublestar v4) against each
 * entry, ignores a malformed pattern (it never matches), and allows everything when the list is empty:
 * https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/common/allowed_images.go (mirror:
 * https://github.com/gitlabhq/gitlab-runner/blob/main/common/allowed_images.go). doublestar's rules
 * (https://github.com/bmatcuk/doublestar/blob/master/match.go), with `/` as the separator: the whole name must match;
 * `*` is any run of characters except `/`; `**` as a whole path segment is any number of segments (`**` elsewhere
 * acts as `*`); `?` is one character except `/`; `[abc]`, `[a-z]`, `[!a]`/`[^a]` are character classes; `{a,b}`
 * are alternatives; `\` escapes the next character. So `ruby:*` allows `ruby:3.3` but not `evil/ruby:3.3`, and
 * `registry.example.com/**` allows every image of that registry.
 */

/** At most this many alternatives after `{…}` expansion: a pattern is configuration, not a search space. */
const MAX_ALTERNATIVES = 256;

/** Index just past the `]` closing the class that starts at `start` (`[`), or -1 when it is unclosed or empty. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '!' || pattern[i] === '^') i += 1;
  if (i >= pattern.length || pattern[i] === ']') return -1;
  for (; i < pattern.length; i += 1) {
    if (pattern[i] === '\\') i += 1;
    else if (pattern[i] === ']') return i + 1;
  }
  return -1;
}

/** Splits `a,b{c,d}` at its top-level commas. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (c === '\\') i += 1;
    else if (c === '{') depth += 1;
    else if (c === '}') depth -= 1;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(body.slice(from));
  return parts;
}

/** The index of the `}` matching the `{` at `open`, or -1. */
function closingBrace(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') i += 1;
    else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end !== -1) i = end - 1;
    } else if (c === '{') depth += 1;
    else if (c === '}' && (depth -= 1) === 0) return i;
  }
  return -1;
}

/** Every brace-free pattern `{…}` stands for, as doublestar tries them; undefined when braces do not pair up. */
function expandBraces(pattern: string): string[] | undefined {
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') i += 1;
    else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end !== -1) i = end - 1;
    } else if (c === '{') {
      const close = closingBrace(pattern, i);
      if (close === -1) return undefined;
      const out: string[] = [];
      for (const alternative of splitAlternatives(pattern.slice(i + 1, close))) {
        const expanded = expandBraces(pattern.slice(0, i) + alternative + pattern.slice(close + 1));
        if (expanded === undefined) return undefined;
        out.push(...expanded);
        if (out.length > MAX_ALTERNATIVES) return undefined;
      }
      return out;
    }
  }
  return [pattern];
}

const literal = (c: string): string => `\\u{${(c.codePointAt(0) as number).toString(16)}}`;

/** A character class (the text between `[` and `]`) as a RegExp class. */
function translateClass(body: string): string {
  let out = '[';
  let i = 0;
  if (body[0] === '!' || body[0] === '^') {
    out += '^';
    i = 1;
  }
  const first = i;
  while (i < body.length) {
    if (body[i] === '\\') i += 1;
    const c = String.fromCodePoint(body.codePointAt(i) as number);
    i += c.length;
    // A "-" between two characters makes a range, as in doublestar; first or last it is itself.
    out += c === '-' && i - 1 > first && i < body.length ? '-' : literal(c);
  }
  return `${out}]`;
}

/** A brace-free pattern as a RegExp source, or undefined when it is malformed (a trailing `\`, an unclosed `[`). */
function translate(pattern: string): string | undefined {
  let out = '';
  let segmentStart = true;
  let i = 0;
  while (i < pattern.length) {
    const rest = pattern.slice(i);
    if (segmentStart && (rest === '**' || rest.startsWith('**/'))) {
      out += rest === '**' ? '.*' : '(?:.*/)?';
      i += 3;
      continue;
    }
    if (rest === '/**') return `${out}(?:/.*)?`;
    const c = String.fromCodePoint(pattern.codePointAt(i) as number);
    segmentStart = false;
    if (c === '*') {
      out += '[^/]*';
      while (pattern[i + 1] === '*') i += 1;
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end === -1) return undefined;
      out += translateClass(pattern.slice(i + 1, end - 1));
      i = end;
      continue;
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) return undefined;
      const escaped = String.fromCodePoint(pattern.codePointAt(i + 1) as number);
      out += literal(escaped);
      segmentStart = escaped === '/';
      i += 1 + escaped.length;
      continue;
    } else {
      out += literal(c);
      segmentStart = c === '/';
    }
    i += c.length;
  }
  return out;
}

const compiled = new Map<string, RegExp | null>();

/** The pattern as one anchored RegExp, or null when it is malformed (it then matches nothing, as in gitlab-runner). */
function compile(pattern: string): RegExp | null {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  const alternatives = expandBraces(pattern)?.map(translate);
  const regexp =
    alternatives === undefined || alternatives.some((source) => source === undefined)
      ? null
      : new RegExp(`^(?:${alternatives.join('|')})$`, 'u');
  compiled.set(pattern, regexp);
  return regexp;
}

/** Why an allow-list pattern is malformed (gitlab-runner would silently never match it), or undefined when it is fine. */
export function imagePatternProblem(pattern: string): string | undefined {
  if (compile(pattern) !== null) return undefined;
  return 'a malformed pattern (an unclosed "[" or "{", an empty "[]", a trailing "\\", or over 256 "{…}" alternatives)';
}

/** True when `name` matches the doublestar `pattern` (see the module comment); a malformed pattern matches nothing. */
export function matchesImagePattern(pattern: string, name: string): boolean {
  return compile(pattern)?.test(name) ?? false;
}

/**
 * gitlab-runner's `allowed_images` / `allowed_services` rule: an empty list allows every name, otherwise some
 * pattern must match the whole name.
 */
export function isImageAllowed(name: string, patterns: readonly string[]): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesImagePattern(pattern, name));
}
