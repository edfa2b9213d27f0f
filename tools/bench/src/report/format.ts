import type { SuiteResult, Table, TargetCheck } from './types.js';

/** A number with a sensible number of digits for a table cell. */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toFixed(digits);
}

/** `2.31×` */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
}

/** A Markdown table (readable as plain text too). */
export function renderTable(table: Table): string {
  const cells = [table.columns, ...table.rows].map((row) => row.map((cell) => String(cell)));
  const widths = table.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length), 3));
  const line = (row: readonly string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  const numeric = table.columns.map((_, i) => table.rows.every((row) => typeof row[i] === 'number' || /^[-\d.,×%≤ /]+[a-zA-Z/×%]*$/.test(String(row[i]))));
  const rule = `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  const out = [`**${table.title}**`, '', line(cells[0]!), rule, ...cells.slice(1).map(line)];
  if (table.notes && table.notes.length > 0) out.push('', ...table.notes);
  return out.join('\n');
}

export function targetsTable(targets: readonly TargetCheck[]): Table {
  return {
    title: 'Targets',
    columns: ['target', 'goal', 'measured', 'met'],
    rows: targets.map((t) => [t.name, t.target, t.measured, t.met ? 'yes' : 'NO']),
    notes: targets.filter((t) => !t.met && t.note).map((t) => `- ${t.name} missed: ${t.note}`),
  };
}

/** A suite's tables, for the terminal and the Markdown report. */
export function renderSuite(suite: SuiteResult): string {
  const parts = [`## ${suite.title}`, '', ...suite.tables.map(renderTable).flatMap((t) => [t, ''])];
  return parts.join('\n');
}
