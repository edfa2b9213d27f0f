import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from './process.js';
import { Sandbox } from './sandbox.js';
import { workspaceRoot } from './workspace.js';

/** A workspace package that declares commands, as its package.json says. */
interface WorkspaceCli {
  readonly folder: string;
  readonly name: string;
  readonly bin: Record<string, string>;
}

const root = workspaceRoot();

/** Every workspace package with a `bin`, from the root's `workspaces` globs (`packages/*`, `tools/*`) as git has them. */
function workspaceClis(): WorkspaceCli[] {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const manifests = workspaces.flatMap((glob) => trackedFiles.filter((file) => inFolderOf(glob, file)));
  return manifests.flatMap((file) => {
    const manifest = JSON.parse(readFileSync(join(root, file), 'utf8')) as Partial<WorkspaceCli>;
    return manifest.bin && manifest.name ? [{ folder: dirname(file), name: manifest.name, bin: manifest.bin }] : [];
  });
}

/** Whether `file` is the package.json of a folder that the workspace glob `packages/*` names. */
function inFolderOf(glob: string, file: string): boolean {
  const parent = glob.replace(/\/\*$/, '');
  return dirname(dirname(file)) === parent && file.endsWith('/package.json');
}

let trackedFiles: string[] = [];
let clis: WorkspaceCli[] = [];
let sandbox: Sandbox;

beforeAll(async () => {
  const listed = await runProcess('git', ['ls-files'], { cwd: root });
  expect(listed.exitCode, listed.stderr).toBe(0);
  trackedFiles = listed.stdout.split('\n').filter(Boolean);
  clis = workspaceClis();
  sandbox = Sandbox.create('workspace-bins');
});
afterAll(() => sandbox?.remove());

describe('the workspace CLIs at the repository root', () => {
  it('are linked by an install before anything is built', async () => {
    // A copy of the workspace as a fresh clone has it: each package's bin fields and its tracked files, no dist/.
    const copy = join(sandbox.dir, 'clone');
    mkdirSync(copy);
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ name: 'clone', private: true, workspaces: ['packages/*', 'tools/*'] }));
    for (const cli of clis) {
      mkdirSync(join(copy, cli.folder), { recursive: true });
      writeFileSync(join(copy, cli.folder, 'package.json'), JSON.stringify({ name: cli.name, version: '0.0.0', type: 'module', bin: cli.bin }));
      for (const target of Object.values(cli.bin)) {
        const file = join(cli.folder, target);
        if (!trackedFiles.includes(file)) continue;
        mkdirSync(dirname(join(copy, file)), { recursive: true });
        copyFileSync(join(root, file), join(copy, file));
      }
    }
    const install = await runProcess('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: copy });
    expect(install.exitCode, install.stderr).toBe(0);

    const unlinked = clis
      .flatMap((cli) => Object.keys(cli.bin))
      .filter((command) => !isExecutable(join(copy, 'node_modules/.bin', command)));
    expect(unlinked).toEqual([]);
  });

  it('answer `npx <command> --help` once built', async () => {
    const commands = clis.flatMap((cli) => Object.keys(cli.bin));
    expect(commands.length).toBeGreaterThanOrEqual(7);
    for (const command of commands) {
      const result = await runProcess('npx', ['--no-install', command, '--help'], { cwd: root });
      expect({ command, exitCode: result.exitCode, stderr: result.stderr }).toEqual({ command, exitCode: 0, stderr: '' });
      expect(result.stdout).toContain(command);
    }
  });
});

function isExecutable(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
