/**
 * Variable expansion as gitlab-runner does it: Go's `os.Expand` (https://pkg.go.dev/os#Expand) with the lookup of
 * `Variables.Get` in https://github.com/gitlabhq/gitlab-runner/blob/main/common/spec/variables.go: `$NAME` (letters,
 * digits, `_`) and `${NAME}`; `$$` is `$`; `$*`, `$#`, `$1`… are empty; `${}` and an unclosed `${` are dropped; a
 * `$` before anything else stays; an unknown name is empty; the last variable of a name wins.
 */

/** A variable to expand against (the payload's shape, reduced to what expansion needs). */
export interface ExpansionSource {
  readonly key: string;
  readonly value: string;
}

/** The expanded text, and the names it referred to that the source did not have. */
export interface Expansion {
  readonly value: string;
  readonly missing: readonly string[];
}

const SPECIAL = new Set([...'*#$@!?-0123456789']);
const NAME_CHAR = /[A-Za-z0-9_]/;

/** The name after a `$` and how many characters it took (Go's `getShellName`); name "" with width 0 = not a reference. */
function shellName(text: string): { name: string; width: number } {
  if (text[0] === '{') {
    if (text.length > 2 && SPECIAL.has(text[1] as string) && text[2] === '}') return { name: text[1] as string, width: 3 };
    const close = text.indexOf('}');
    if (close === -1) return { name: '', width: 1 };
    return { name: text.slice(1, close), width: close + 1 };
  }
  if (SPECIAL.has(text[0] as string)) return { name: text[0] as string, width: 1 };
  let width = 0;
  while (width < text.length && NAME_CHAR.test(text[width] as string)) width += 1;
  return { name: text.slice(0, width), width };
}

/** Expands `text` against `source` (see the module comment). */
export function expandVariables(text: string, source: readonly ExpansionSource[]): Expansion {
  if (!text.includes('$')) return { value: text, missing: [] };
  const values = new Map(source.map((variable) => [variable.key, variable.value]));
  const missing: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1 || dollar === text.length - 1) break;
    out += text.slice(i, dollar);
    const { name, width } = shellName(text.slice(dollar + 1));
    if (name === '' && width === 0) out += '$';
    else if (name === '$') out += '$';
    else if (name !== '' && !SPECIAL.has(name)) {
      const value = values.get(name);
      if (value === undefined) missing.push(name);
      out += value ?? '';
    }
    i = dollar + 1 + width;
  }
  return { value: out + text.slice(i), missing };
}
