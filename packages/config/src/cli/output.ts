/** Where the CLI writes; a parameter so the commands can be driven from tests and other tools. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Exit codes of gitlab-fargate-config. */
export const EXIT = {
  ok: 0,
  /** Unexpected failure (e.g. the output file could not be written). */
  failure: 1,
  /** Invalid input: a bad file, flag or variable. Nothing was written. */
  invalid: 2,
} as const;
