import type { KeyHome } from './checker.js';
import type { Schema } from './schema.js';

const indexes = new WeakMap<Schema<unknown>, Map<string, KeyHome>>();

function walk(schema: Schema<unknown>, path: readonly string[], inArray: boolean, out: Map<string, KeyHome>): void {
  const table = path.length === 0 ? 'the top level' : inArray ? `[[${path.join('.')}]]` : `[${path.join('.')}]`;
  for (const { key, schema: child, arrayOfTables } of schema.tableKeys ?? []) {
    const lower = key.toLowerCase();
    if (!out.has(lower)) out.set(lower, { key, table });
    if (child.tableKeys !== undefined) walk(child, [...path, key], arrayOfTables === true, out);
  }
}

/**
 * Where each key of a document schema is accepted, for pointing a key written under the wrong table header at
 * the right one. Built on first use, once per schema: only files with an unknown key need it.
 */
export function keyFinder(schema: Schema<unknown>): (key: string) => KeyHome | undefined {
  return (key) => {
    let index = indexes.get(schema);
    if (index === undefined) {
      index = new Map();
      walk(schema, [], false, index);
      indexes.set(schema, index);
    }
    return index.get(key.toLowerCase());
  };
}
