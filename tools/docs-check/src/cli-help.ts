import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The workspace folder of each command that docs may show, relative to the repository root. */
export const COMMAND_HOMES: Readonly<Record<string, string>> = {
  'gitlab-fargate-config': 'packages/config',
  'gitlab-fargate-driver': 'packages/driver',
  'gitlab-fargate-images': 'packages/images',
  'gitlab-fargate-bench': 'tools/bench',
  'gitlab-fargate-demo': 'tools/demo',
  'gitlab-fargate-ecs-emulator': 'tools/ecs-emulator',
  'gitlab-fargate-runner-harness': 'tools/runner-harness',
};

/** What a command printed for `--help` after some verb words, and whether it accepted them. */
export interface HelpAnswer {
  readonly accepted: boolean;
  readonly text: string;
}

/** Asks the built CLI itself: `node <home>/bin/<command>.js <words> --help`. */
export function askHelp(root: string, command: string, words: readonly string[]): HelpAnswer {
  const home = COMMAND_HOMES[command];
  if (home === undefined) return { accepted: false, text: `${command} is not a command of this repository` };
  const result = spawnSync(process.execPath, [join(root, home, 'bin', `${command}.js`), ...words, '--help'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { accepted: result.status === 0, text: `${result.stdout}${result.stderr}` };
}

/** Whether `help` lists `option` as an option (as a word of its own, not inside another name). */
export function helpListsOption(help: string, option: string): boolean {
  const escaped = option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s,\\[|(])${escaped}(?=$|[\\s,=\\]|)])`, 'm').test(help);
}
