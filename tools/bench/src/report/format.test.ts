import { describe, expect, it } from 'vitest';
import { fmt, ratio, renderTable, targetsTable } from './format.js';

describe('report formatting', () => {
  it('renders a Markdown table with right-aligned number columns and notes below', () => {
    const text = renderTable({
      title: 'T', columns: ['name', 'ms'], rows: [['a', 12], ['bb', 3]], notes: ['note one', 'note two'],
    });
    expect(text).toBe([
      '**T**', '', '| name | ms  |', '| ---- | --: |', '| a    | 12  |', '| bb   | 3   |', '', 'note one', 'note two',
    ].join('\n'));
  });

  it('formats missing figures as n/a', () => {
    expect(fmt(Number.NaN)).toBe('n/a');
    expect(ratio(Number.POSITIVE_INFINITY)).toBe('n/a');
    expect(ratio(2.345)).toBe('2.35×');
  });

  it('lists why a missed target was missed, and only for missed ones', () => {
    const table = targetsTable([
      { name: 'a', target: '< 1', measured: '2', met: false, note: 'too slow because X' },
      { name: 'b', target: '< 1', measured: '0.5', met: true, note: 'not shown' },
    ]);
    expect(table.rows).toEqual([['a', '< 1', '2', 'NO'], ['b', '< 1', '0.5', 'yes']]);
    expect(table.notes).toEqual(['- a missed: too slow because X']);
  });
});
