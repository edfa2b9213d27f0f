/** One row of the reliability matrix: a fault or kill point and what came of it. */
export interface MatrixRow {
  /** The fault injected or the kill point. */
  readonly scenario: string;
  /** The job result (faults) or the killed stage's exit (kill points). */
  readonly outcome: string;
  /** Whether cleanup ran and exited 0. */
  readonly cleanup: string;
  /** What cleanup left: `none`, or tasks, containers, state files, private keys. */
  readonly leftAfterCleanup: string;
  /** What `gitlab-fargate-driver gc` then stopped. */
  readonly gc: string;
  /** What is left at the end. */
  readonly leftAtEnd: string;
}

const columns: readonly [keyof MatrixRow, string][] = [
  ['scenario', 'Fault / kill point'],
  ['outcome', 'Outcome'],
  ['cleanup', 'Cleanup'],
  ['leftAfterCleanup', 'Left after cleanup'],
  ['gc', 'gc stopped'],
  ['leftAtEnd', 'Left at end'],
];

/** Collects rows as tests finish and renders them as a Markdown table (printed, and kept in the README). */
export class ReliabilityMatrix {
  private readonly rows: MatrixRow[] = [];

  constructor(private readonly title: string) {}

  add(row: MatrixRow): void {
    this.rows.push(row);
  }

  render(): string {
    const cells = [columns.map(([, header]) => header), ...this.rows.map((row) => columns.map(([key]) => row[key]))];
    const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
    const line = (values: readonly string[]) => `| ${values.map((value, i) => value.padEnd(widths[i]!)).join(' | ')} |`;
    return [
      `${this.title}`,
      '',
      line(cells[0]!),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...cells.slice(1).map(line),
    ].join('\n');
  }
}
