import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { askHelp, COMMAND_HOMES, helpListsOption, type HelpAnswer } from './cli-help.js';
import { shownCommands } from './commands.js';
import { brokenLinks } from './links.js';
import { trackedMarkdownFiles } from './markdown.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const files = trackedMarkdownFiles(root);

describe('the Markdown of the repository', () => {
  it('is found: README, every package README and docs/', () => {
    const paths = files.map((file) => file.path);
    expect(paths).toContain('README.md');
    expect(paths).toContain('docs/testing.md');
    for (const home of Object.values(COMMAND_HOMES)) expect(paths).toContain(`${home}/README.md`);
  });

  it('has no relative link or anchor that points nowhere', () => {
    const broken = brokenLinks(root, files).map((link) => `${link.file}:${link.line} (${link.target}): ${link.problem}`);
    expect(broken).toEqual([]);
  });

  it('shows gitlab-fargate command lines in its code blocks', () => {
    // The check below would pass vacuously if the parser stopped finding them.
    expect(shownCommands(files).length).toBeGreaterThanOrEqual(15);
  });

  // One Node start per distinct command and verbs (about 0.3 s each here, several times that on a loaded machine).
  it('shows only verbs and options the commands accept', { timeout: 180_000 }, () => {
    const answers = new Map<string, HelpAnswer>();
    const ask = (command: string, words: string[]): HelpAnswer => {
      const key = [command, ...words].join(' ');
      if (!answers.has(key)) answers.set(key, askHelp(root, command, words));
      return answers.get(key)!;
    };
    const problems: string[] = [];
    for (const shown of shownCommands(files)) {
      const where = `${shown.file}:${shown.line} \`${shown.text}\``;
      const answer = ask(shown.command, shown.words);
      if (!answer.accepted) {
        problems.push(`${where}: "${[shown.command, ...shown.words].join(' ')} --help" is refused: ${answer.text.trim().split('\n')[0]}`);
        continue;
      }
      const known = `${answer.text}\n${ask(shown.command, []).text}`;
      for (const option of shown.options.filter((o) => o !== '--help' && o !== '-h')) {
        if (!helpListsOption(known, option)) problems.push(`${where}: ${option} is not an option of ${[shown.command, ...shown.words].join(' ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
