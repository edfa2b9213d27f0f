import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configCliStatus } from '../../test/config-cli.js';
import { CONFIG_PACKAGE_DIR } from '../../test/paths.js';
import { RELOADABLE_SETTING_VARIABLES, START_ONLY_VARIABLES } from './variables.js';

configCliStatus();

/** The variables `gitlab-fargate-config render KIND` reads, from its help ("--flag (VARIABLE)"). */
function renderVariables(kind: string): string[] {
  const help = spawnSync(process.execPath, [join(CONFIG_PACKAGE_DIR, 'dist/cli.js'), 'render', kind, '--help'], { encoding: 'utf8' });
  expect(help.status, help.stderr).toBe(0);
  return [...help.stdout.matchAll(/^ {2}--[a-z0-9-]+ \(([A-Z0-9_]+)\)/gm)].map((match) => match[1] ?? '');
}

describe('the settings variables', () => {
  it("cover every variable the config CLI's render reads: each is either reloadable or start-only", () => {
    const read = [...renderVariables('driver'), ...renderVariables('runner')];
    expect(read.length).toBeGreaterThan(40);
    const unplaced = read.filter((name) => !RELOADABLE_SETTING_VARIABLES.includes(name) && START_ONLY_VARIABLES[name] === undefined);
    expect(unplaced, 'add each to RELOADABLE_SETTING_VARIABLES (a running job survives its change) or START_ONLY_VARIABLES').toEqual([]);
    const notRead = RELOADABLE_SETTING_VARIABLES.filter((name) => !read.includes(name));
    expect(notRead, 'the config CLI no longer reads these').toEqual([]);
  });

  it('keep secrets and what running jobs depend on out of the parameter', () => {
    const agents = ['JOB_AGENT_IMAGE', 'ARM64_JOB_AGENT_IMAGE'];
    for (const name of ['RUNNER_TOKEN', 'REGISTRATION_TOKEN', 'METADATA_DIR', 'DRIVER_CONFIG_PATH', 'LOG_FILE', 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN', ...agents]) {
      expect(START_ONLY_VARIABLES[name], name).toBeDefined();
      expect(RELOADABLE_SETTING_VARIABLES, name).not.toContain(name);
    }
  });
});

describe('the manager helper', () => {
  // The image gets this folder alone (gitlab-fargate-images context copies dist/manager): it may import nothing else.
  it('imports only Node.js and its own files', () => {
    const root = fileURLToPath(new URL('.', import.meta.url));
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
    expect(files).toContain('cli.ts');
    for (const file of files) {
      const source = readFileSync(join(root, file), 'utf8');
      for (const [, specifier = ''] of source.matchAll(/\bfrom '([^']+)'/g)) {
        const inside = specifier.startsWith('.') && !relative(root, join(root, file, '..', specifier)).startsWith('..');
        expect(specifier.startsWith('node:') || inside, `${file} imports ${specifier}`).toBe(true);
      }
    }
  });
});
