import { parseArgs } from 'node:util';

/** What the command line asks for. */
export type DemoCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly seconds: number; readonly verbose: boolean };

/** A command line that cannot run, with what to do about it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const usage = `Usage: gitlab-fargate-demo [--seconds N] [--verbose]

Runs the seed article's CI job end to end on this machine, with no AWS account and no GitLab:
it makes sure Docker runs, builds the ci-coordinator job image, starts the local ECS emulator with
the dev cluster and the gitlab-runner-dev-task task definition, and runs two jobs through
gitlab-runner's custom-executor protocol (runner harness) and the real gitlab-fargate-driver:

  1. test-dev       echo "It works!" and a loop printing a dot a second   → must succeed
  2. failing-test   a script that exits 3                                 → must fail with exit code 3

Each job's log is printed as GitLab would show it, with the time each phase took, then a summary.
Everything the demo started is removed at the end, also on Ctrl-C.

Options:
  --seconds N   dots the first job prints, one a second (the article has 30)   default: 5
  --verbose     show the job image's docker build output                        default: off
  --help        show this help

Exit status: 0 when both jobs ended as expected, 1 when not (or on an error), 2 for a bad command
line, 130 when cancelled.`;

/** Reads the command line; throws {@link UsageError} before anything starts. */
export function parseDemoArgs(argv: readonly string[]): DemoCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        seconds: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see gitlab-fargate-demo --help)`);
  }
  if (parsed.values.help) return { kind: 'help' };
  const rawSeconds = parsed.values.seconds ?? '5';
  const seconds = Number(rawSeconds);
  if (!/^\d+$/.test(rawSeconds) || seconds < 1 || seconds > 300) {
    throw new UsageError(`--seconds must be a whole number from 1 to 300, found ${JSON.stringify(rawSeconds)}`);
  }
  return { kind: 'run', seconds, verbose: parsed.values.verbose };
}
