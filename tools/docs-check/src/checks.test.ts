import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchors } from './anchors.js';
import { fileURLToPath } from 'node:url';
import { askHelp, helpListsOption } from './cli-help.js';
import { shownCommands } from './commands.js';
import { brokenLinks } from './links.js';
import { fencedLines, linksOf, type MarkdownFile } from './markdown.js';

function md(path: string, text: string): MarkdownFile {
  return { path, text };
}

describe('headingAnchors', () => {
  it('gives GitLab and GitHub slugs, numbering repeats', () => {
    const anchors = headingAnchors(['Deploy to AWS — step 1', '`gc --dry-run`', 'Usage', 'Usage']);
    expect(anchors).toContain('deploy-to-aws-step-1'); // GitLab folds the dashes
    expect(anchors).toContain('deploy-to-aws--step-1'); // GitHub keeps them
    expect(anchors).toContain('gc---dry-run');
    expect(anchors).toContain('usage');
    expect(anchors).toContain('usage-1');
    expect(anchors).not.toContain('Usage');
  });
});

describe('linksOf and fencedLines', () => {
  const file = md('a.md', ['See [b](b.md#top) and ![i](img.svg).', '```sh', '[x](nowhere.md)', 'gitlab-fargate-driver gc \\', '  --dry-run', '```', '[ref]: docs/x.md', '`[c](code.md)`'].join('\n'));

  it('finds links outside code only', () => {
    expect(linksOf(file).map((link) => link.target)).toEqual(['b.md#top', 'img.svg', 'docs/x.md']);
  });

  it('joins continued lines inside fences', () => {
    expect(fencedLines(file).map((line) => line.text)).toEqual(['[x](nowhere.md)', 'gitlab-fargate-driver gc  --dry-run']);
  });
});

describe('HTML anchors', () => {
  it('resolve links as jsii-docgen writes them', () => {
    const api = md('API.md', '### Foo <a name="Foo" id="@x/y.Foo"></a>\n[Foo](#@x/y.Foo) [gone](#@x/y.Bar)\n');
    expect(brokenLinks('/', [api]).map((link) => link.target)).toEqual(['#@x/y.Bar']);
  });
});

describe('brokenLinks', () => {
  const root = mkdtempSync(join(tmpdir(), 'docs-check-'));
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs', 'guide.md'), '# Guide\n## First step\n');
  const files = [md('README.md', '[ok](docs/guide.md#first-step) [gone](docs/missing.md) [bad](docs/guide.md#second-step) [self](#readme) [up](../x.md)\n# Readme\n'), md('docs/guide.md', '# Guide\n## First step\n')];

  it('reports missing files, missing anchors and links out of the repository', () => {
    expect(brokenLinks(root, files).map((link) => `${link.target}: ${link.problem}`)).toEqual([
      'docs/missing.md: docs/missing.md does not exist',
      'docs/guide.md#second-step: docs/guide.md has no heading with the anchor #second-step',
      '../x.md: points outside the repository',
    ]);
  });
});

describe('shownCommands', () => {
  it('reads verbs and options, stopping at shell operators and skipping comments', () => {
    const file = md('x.md', ['```sh', '$ npx gitlab-fargate-config render driver --out /tmp/f.toml --strict=1 | tee x --bogus', '# gitlab-fargate-driver is the driver', 'sudo gitlab-fargate-driver --config /etc/f.toml custom prepare', '```'].join('\n'));
    expect(shownCommands([file]).map((c) => [c.command, c.words.join(' '), c.options.join(' ')])).toEqual([
      ['gitlab-fargate-config', 'render driver', '--out --strict'],
      ['gitlab-fargate-driver', 'custom prepare', '--config'],
    ]);
  });
});

describe('shownCommands, several on a line', () => {
  it('finds each command between shell operators, also inside a quoted string', () => {
    const file = md('x.md', ['```sh', `"gitlab-fargate-config render driver --out \\"$P\\" && gitlab-fargate-driver --config \\"$P\\" gc --dry-run"`, '```'].join('\n'));
    expect(shownCommands([file]).map((c) => [c.command, c.words.join(' '), c.options.join(' ')])).toEqual([
      ['gitlab-fargate-config', 'render driver', '--out'],
      ['gitlab-fargate-driver', 'gc', '--config --dry-run'],
    ]);
  });
});

describe('helpListsOption', () => {
  it('matches whole options only', () => {
    expect(helpListsOption('  --dry-run   list only', '--dry-run')).toBe(true);
    expect(helpListsOption('[--min-age SECONDS]', '--min-age')).toBe(true);
    expect(helpListsOption('  --dry-run-all', '--dry-run')).toBe(false);
    expect(helpListsOption('  --out DIR', '--ou')).toBe(false);
  });
});

describe('askHelp', { timeout: 60_000 }, () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));

  it('accepts a verb the CLI knows and shows its options', () => {
    const answer = askHelp(root, 'gitlab-fargate-driver', ['gc']);
    expect(answer.accepted).toBe(true);
    expect(helpListsOption(answer.text, '--dry-run')).toBe(true);
  });

  it('is refused for a verb the CLI does not know, or a command that is not ours', () => {
    expect(askHelp(root, 'gitlab-fargate-driver', ['garbage-collect']).accepted).toBe(false);
    expect(askHelp(root, 'gitlab-fargate-config', ['render', 'everything']).accepted).toBe(false);
    expect(askHelp(root, 'gitlab-fargate-nothing', []).accepted).toBe(false);
  });
});
