/** One bar of a horizontal bar chart. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Printed at the bar's end (e.g. `1.47×`); defaults to the value. */
  readonly text?: string;
  /** Drawn in the "missed" colour. */
  readonly missed?: boolean;
}

/** A horizontal bar chart, optionally with a vertical reference line (a target, a baseline). */
export interface BarChart {
  readonly title: string;
  readonly bars: readonly Bar[];
  /** Where the axis ends; defaults to the largest value (or the reference) plus 10%. */
  readonly max?: number;
  readonly reference?: { readonly value: number; readonly label: string };
  /** Under the title: what the bars are. */
  readonly subtitle?: string;
}

const LABEL_WIDTH = 250;
const PLOT_WIDTH = 420;
const TEXT_WIDTH = 90;
const ROW_HEIGHT = 26;
const TOP = 54;

/** Text for SVG content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An SVG document of `chart`, self-contained (no fonts or scripts loaded), readable on light and dark pages. */
export function renderBarChart(chart: BarChart): string {
  const largest = Math.max(...chart.bars.map((bar) => bar.value), chart.reference?.value ?? 0);
  const max = chart.max ?? (largest > 0 ? largest * 1.1 : 1);
  const length = (value: number): number => Math.round((Math.max(0, value) / max) * PLOT_WIDTH * 10) / 10;
  const x = (value: number): number => Math.round((LABEL_WIDTH + length(value)) * 10) / 10;
  const height = TOP + chart.bars.length * ROW_HEIGHT + 30;
  const width = LABEL_WIDTH + PLOT_WIDTH + TEXT_WIDTH;
  const rows = chart.bars.map((bar, index) => {
    const y = TOP + index * ROW_HEIGHT;
    const fill = bar.missed === true ? '#d9534f' : '#4a90d9';
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${y + 16}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + 4}" width="${length(bar.value)}" height="${ROW_HEIGHT - 8}" fill="${fill}"/>`,
      `<text x="${x(bar.value) + 6}" y="${y + 16}">${escapeXml(bar.text ?? String(bar.value))}</text>`,
    ].join('');
  });
  const reference = chart.reference === undefined ? [] : [
    `<line x1="${x(chart.reference.value)}" y1="${TOP}" x2="${x(chart.reference.value)}" y2="${height - 26}" stroke="#888" stroke-dasharray="4 3"/>`,
    `<text x="${x(chart.reference.value)}" y="${height - 10}" text-anchor="middle" fill="#888">${escapeXml(chart.reference.label)}</text>`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="13" fill="#555">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    ...(chart.subtitle === undefined ? [] : [`<text x="10" y="40">${escapeXml(chart.subtitle)}</text>`]),
    ...rows,
    ...reference,
    '</svg>',
    '',
  ].join('\n');
}
