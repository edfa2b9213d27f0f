import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../bench.js';
import { renderCharts, targetBars } from './charts.js';
import { escapeXml, renderBarChart } from './svg.js';

const latest = JSON.parse(readFileSync(new URL('../../results/latest.json', import.meta.url), 'utf8')) as BenchReport;

function widths(svg: string): number[] {
  return [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((match) => Number(match[1]));
}

describe('targetBars', () => {
  it('shows each numeric target as the share of its budget used', () => {
    const bars = targetBars([
      { name: 'run', target: '≤ 3× node -e 0', measured: '1.47×', met: true },
      { name: 'throughput', target: '≥ 0.8× OpenSSH', measured: '1.04×', met: true },
      { name: 'overhead', target: '< 1.5 s', measured: '1.80 s', met: false },
      { name: 'all succeed', target: 'all', measured: '50 / 50', met: true },
    ]);
    expect(bars.map((bar) => [bar.label, bar.value, bar.missed])).toEqual([
      ['run', 49, false],
      ['throughput', 76.9, false], // higher is better: target ÷ measured
      ['overhead', 120, true],
    ]);
  });
});

describe('renderBarChart', () => {
  it('draws one bar per value, in proportion, with escaped labels', () => {
    const svg = renderBarChart({ title: 'a < b & c', bars: [{ label: '<x>', value: 10 }, { label: 'y', value: 20 }], max: 20 });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>a &lt; b &amp; c</title>');
    expect(svg).toContain('&lt;x&gt;');
    expect(svg).not.toContain('<x>');
    const [first, second] = widths(svg);
    expect(second).toBeCloseTo(2 * first!, 5);
  });

  it('escapes quotes for attributes', () => {
    expect(escapeXml('"q"')).toBe('&quot;q&quot;');
  });
});

describe('renderCharts on the committed results', () => {
  const charts = renderCharts(latest);

  it('draws the targets and the start-up chart', () => {
    expect(charts.map((chart) => chart.name)).toEqual(['targets.svg', 'startup.svg']);
  });

  it('draws every numeric target of the run, missed ones in red', () => {
    const targets = charts[0]!.svg;
    const numeric = latest.targets.filter((target) => /\d/.test(target.target));
    expect(widths(targets)).toHaveLength(numeric.length);
    expect((targets.match(/fill="#d9534f"/g) ?? []).length).toBe(numeric.filter((target) => !target.met).length);
  });

  it('puts node -e 0 as the baseline of the start-up chart, not as a bar', () => {
    const startup = charts[1]!.svg;
    const node = latest.suites.find((suite) => suite.id === 'startup')!.tables[0]!.rows[0]!;
    expect(startup).toContain(`node -e 0: ${Number(node[1])} ms`);
    expect(startup).toContain('custom config');
    expect(startup).not.toMatch(/>node -e 0<\/text>/);
  });
});

describe('the charts in docs/bench', () => {
  it('are the ones the committed results file draws (redraw: cli.js --from results/latest.json --charts docs/bench)', () => {
    for (const chart of renderCharts(latest)) {
      const committed = readFileSync(new URL(`../../../../docs/bench/${chart.name}`, import.meta.url), 'utf8');
      expect(committed, chart.name).toBe(chart.svg);
    }
  });
});
