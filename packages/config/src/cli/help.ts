import type { RenderKind } from './render-inputs.js';

export const MAIN_HELP = `Usage: gitlab-fargate-config <command> [options]

Checks and writes the configuration of the gitlab-fargate driver and of gitlab-runner.

Commands:
  validate FILE...        check driver TOML and runner config.toml files
  render driver|runner    write a valid file from flags and environment variables

Options:
  --help       show help (also after each command)
  --version    show the version

Exit codes: 0 valid, 2 invalid input (nothing written), 1 unexpected failure.
`;

export const VALIDATE_HELP = `Usage: gitlab-fargate-config validate [--kind driver|runner] [--strict] [--print] FILE...

Checks each file and reports every problem as file:line:column: severity: key: expected …, found ….
The kind of each file is detected ([Fargate] or [[runners]]) unless --kind is given.
An unknown key is a warning that names the nearest known key or the table it belongs under: the driver and
gitlab-runner still use the file (as upstream's driver and gitlab-runner do). --strict makes it an error.
Each FILE must be a regular file of at most 1 MiB.

Options:
  --kind driver|runner   the kind of every FILE
  --strict               unknown keys are errors (exit 2), e.g. in CI before a deploy
  --print                print each file normalized (canonical keys, defaults filled in, secrets hidden)
  --help                 show this help
`;

export const RENDER_HELP = `Usage: gitlab-fargate-config render driver|runner [options] [--out PATH]

Builds a valid file from flags and environment variables (a flag wins over its variable; an empty value
counts as unset), validates it, and writes it atomically with mode 0600 to --out, or to stdout.
On invalid input nothing is written and the exit code is 2.

Run "gitlab-fargate-config render driver --help" or "... render runner --help" for their options.
`;

export function renderKindHelp(kind: 'driver' | 'runner', inputs: RenderKind): string {
  const rows: [string, string][] = inputs.inputs.map((input) => {
    const notes = [input.required === true ? 'required' : undefined, input.default === undefined ? undefined : `default: ${input.default()}`].filter((note) => note !== undefined);
    return [`--${input.flag} (${input.env})`, `${input.help}${notes.length > 0 ? ` [${notes.join('; ')}]` : ''}`];
  });
  rows.push(['--out PATH', 'write here atomically with mode 0600; "-" is stdout [default: stdout]'], ['--help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const what = kind === 'driver' ? "the driver's TOML (e.g. /etc/gitlab-runner/fargate.toml)" : "gitlab-runner's config.toml for the custom executor";
  return `Usage: gitlab-fargate-config render ${kind} [options] [--out PATH]

Writes ${what}.
Each option can also be given by the environment variable in parentheses; the flag wins.

Options:
${rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n')}
`;
}
