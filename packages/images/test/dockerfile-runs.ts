/**
 * The shell that a Dockerfile's RUN instructions amount to, for `bash -n` and shellcheck: each ARG becomes an
 * exported variable with its default (RUN sees ARGs as environment variables) and each RUN body runs in a
 * subshell, as each RUN runs in its own shell. Works for the generated files' layout (ARG NAME=default, RUN bodies
 * continued with trailing backslashes).
 */
export function dockerfileRunScript(dockerfile: string): string {
  const lines = dockerfile.split('\n');
  const script = ['#!/bin/bash', 'set -o pipefail'];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    const arg = /^ARG (\w+)=(.*)$/.exec(line);
    if (arg) {
      script.push(`export ${arg[1]}=${JSON.stringify(arg[2])}`);
    }
    if (line.startsWith('RUN ')) {
      const body = [line.slice('RUN '.length)];
      while (body[body.length - 1]?.endsWith('\\') && index + 1 < lines.length) {
        index += 1;
        body.push(lines[index] ?? '');
      }
      script.push('(', ...body, ')');
    }
  }
  return `${script.join('\n')}\n`;
}
