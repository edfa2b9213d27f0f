/** A key path into a parsed TOML document: table keys and array indexes. */
export type KeyPath = readonly (string | number)[];

/** A 1-based line and column in a text. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

const DOCUMENT_START: Position = { line: 1, column: 1 };

function encode(path: KeyPath, fold: boolean): string {
  return path.map((seg) => (typeof seg === 'number' ? `\u0001${seg}` : fold ? seg.toLowerCase() : seg)).join('\u0000');
}

/**
 * Where each key, table header and array element of a TOML text starts.
 *
 * smol-toml reports positions for syntax errors only, so validation errors are located by scanning the text
 * once more. The scan runs only when there is something to report, which keeps the valid-file path cheap.
 */
export class KeyLocations {
  private readonly exact = new Map<string, Position>();
  private readonly folded = new Map<string, Position>();

  /** Records the first place a path occurs; later occurrences (redefinitions) keep the first. */
  record(path: KeyPath, position: Position): void {
    const exactKey = encode(path, false);
    if (!this.exact.has(exactKey)) this.exact.set(exactKey, position);
    const foldedKey = encode(path, true);
    if (!this.folded.has(foldedKey)) this.folded.set(foldedKey, position);
  }

  /**
   * The position of `path`, or of its nearest recorded ancestor (a missing key is reported at its table),
   * or the document start. Exact spelling wins over a case-insensitive match.
   */
  locate(path: KeyPath): Position {
    for (let length = path.length; length > 0; length--) {
      const prefix = path.slice(0, length);
      const found = this.exact.get(encode(prefix, false)) ?? this.folded.get(encode(prefix, true));
      if (found !== undefined) return found;
    }
    return DOCUMENT_START;
  }
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/**
 * A forgiving single-pass scanner over TOML text. It never throws: on text it does not understand it moves on,
 * because its only job is to point at places in a document smol-toml has already accepted.
 */
class Scanner {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private table: (string | number)[] = [];
  private readonly arrayTableCounts = new Map<string, number>();

  constructor(
    private readonly text: string,
    private readonly out: KeyLocations,
  ) {}

  scan(): void {
    while (this.pos < this.text.length) {
      this.skipBlank(true);
      if (this.pos >= this.text.length) break;
      const start = this.here();
      const ch = this.text[this.pos];
      if (ch === '[') {
        this.header(start);
      } else {
        const before = this.pos;
        this.keyValue(this.table);
        if (this.pos === before) this.advance();
      }
      this.skipToLineEnd();
    }
  }

  private here(): Position {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  private advance(): void {
    if (this.text[this.pos] === '\n') {
      this.line++;
      this.lineStart = this.pos + 1;
    }
    this.pos++;
  }

  private skipBlank(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\r' || (newlines && ch === '\n')) {
        this.advance();
      } else if (ch === '#') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
      } else {
        return;
      }
    }
  }

  private skipToLineEnd(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
  }

  /** Resolves header keys against arrays of tables, so `[runners.custom]` means the latest `[[runners]]`. */
  private resolve(keys: readonly string[], lastIsArray: boolean): (string | number)[] {
    const path: (string | number)[] = [];
    keys.forEach((key, i) => {
      path.push(key);
      const isLast = i === keys.length - 1;
      const count = this.arrayTableCounts.get(encode(path, true));
      if (isLast && lastIsArray) {
        const index = count ?? 0;
        this.arrayTableCounts.set(encode(path, true), index + 1);
        path.push(index);
      } else if (count !== undefined) {
        path.push(count - 1);
      }
    });
    return path;
  }

  private header(start: Position): void {
    const isArray = this.text.startsWith('[[', this.pos);
    this.pos += isArray ? 2 : 1;
    this.skipBlank(false);
    const keys = this.dottedKey();
    const path = this.resolve(keys, isArray);
    for (let length = 1; length <= path.length; length++) this.out.record(path.slice(0, length), start);
    this.table = path;
  }

  private dottedKey(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipBlank(false);
      const key = this.simpleKey();
      if (key === undefined) return keys;
      keys.push(key);
      this.skipBlank(false);
      if (this.text[this.pos] !== '.') return keys;
      this.advance();
    }
  }

  private simpleKey(): string | undefined {
    const ch = this.text[this.pos];
    if (ch === '"' || ch === "'") {
      const start = this.pos;
      this.quoted(ch);
      const raw = this.text.slice(start, this.pos);
      if (ch === "'") return raw.slice(1, -1);
      try {
        return JSON.parse(raw) as string;
      } catch {
        return raw.slice(1, -1);
      }
    }
    const start = this.pos;
    while (this.pos < this.text.length && BARE_KEY.test(this.text[this.pos] as string)) this.advance();
    return this.pos > start ? this.text.slice(start, this.pos) : undefined;
  }

  private quoted(quote: string): void {
    this.advance();
    while (this.pos < this.text.length && this.text[this.pos] !== quote && this.text[this.pos] !== '\n') {
      if (quote === '"' && this.text[this.pos] === '\\') this.advance();
      this.advance();
    }
    if (this.text[this.pos] === quote) this.advance();
  }

  private keyValue(base: readonly (string | number)[]): void {
    const start = this.here();
    const keys = this.dottedKey();
    if (keys.length === 0) return;
    const path = [...base, ...keys];
    for (let length = base.length + 1; length <= path.length; length++) this.out.record(path.slice(0, length), start);
    this.skipBlank(false);
    if (this.text[this.pos] !== '=') return;
    this.advance();
    this.skipBlank(false);
    this.value(path);
  }

  private value(path: readonly (string | number)[]): void {
    const ch = this.text[this.pos];
    if (this.text.startsWith('"""', this.pos) || this.text.startsWith("'''", this.pos)) {
      this.multiline(this.text.slice(this.pos, this.pos + 3));
    } else if (ch === '"' || ch === "'") {
      this.quoted(ch);
    } else if (ch === '[') {
      this.array(path);
    } else if (ch === '{') {
      this.inlineTable(path);
    } else {
      while (this.pos < this.text.length && !',]}\n#'.includes(this.text[this.pos] as string)) this.advance();
    }
  }

  private multiline(delimiter: string): void {
    this.pos += 3;
    while (this.pos < this.text.length && !this.text.startsWith(delimiter, this.pos)) {
      if (delimiter === '"""' && this.text[this.pos] === '\\') this.advance();
      this.advance();
    }
    this.pos += 3;
    // TOML allows up to two extra quotes right before the closing delimiter.
    while (this.text[this.pos] === delimiter[0]) this.advance();
  }

  private array(path: readonly (string | number)[]): void {
    this.advance();
    for (let index = 0; this.pos < this.text.length; index++) {
      this.skipBlank(true);
      if (this.text[this.pos] === ']') break;
      const elementPath = [...path, index];
      this.out.record(elementPath, this.here());
      const before = this.pos;
      this.value(elementPath);
      this.skipBlank(true);
      if (this.text[this.pos] === ',') this.advance();
      else if (this.text[this.pos] !== ']' && this.pos === before) this.advance();
    }
    if (this.text[this.pos] === ']') this.advance();
  }

  private inlineTable(path: readonly (string | number)[]): void {
    this.advance();
    while (this.pos < this.text.length) {
      this.skipBlank(true);
      const ch = this.text[this.pos];
      if (ch === '}') break;
      if (ch === ',') {
        this.advance();
        continue;
      }
      const before = this.pos;
      this.keyValue(path);
      if (this.pos === before) this.advance();
    }
    if (this.text[this.pos] === '}') this.advance();
  }
}

/** Scans TOML text for the position of every key, table header and array element. */
export function scanKeyLocations(text: string): KeyLocations {
  const locations = new KeyLocations();
  new Scanner(text, locations).scan();
  return locations;
}
