/** One problem found in a spec: where it is, what is wrong, and how to fix it. */
export interface SpecIssue {
  /** Dotted path of the offending field, e.g. `ciCoordinator.sshPort`. */
  readonly path: string;
  /** What is wrong with the value. */
  readonly message: string;
  /** What to write instead. */
  readonly fix: string;
}

/** Thrown when a spec fails validation; lists every issue found, not just the first. */
export class SpecValidationError extends Error {
  /** Every issue found in the spec. */
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[]) {
    super(
      [
        `invalid image spec (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):`,
        ...issues.map((issue) => `  - ${issue.path}: ${issue.message}; fix: ${issue.fix}`),
      ].join('\n'),
    );
    this.name = 'SpecValidationError';
    this.issues = issues;
  }
}

/** Collects issues while a spec is checked field by field. */
export class IssueCollector {
  private readonly found: SpecIssue[] = [];

  add(path: string, message: string, fix: string): void {
    this.found.push({ path, message, fix });
  }

  get issues(): readonly SpecIssue[] {
    return this.found;
  }

  /** Throws a {@link SpecValidationError} when anything was collected. */
  throwIfAny(): void {
    if (this.found.length > 0) {
      throw new SpecValidationError(this.found);
    }
  }
}
