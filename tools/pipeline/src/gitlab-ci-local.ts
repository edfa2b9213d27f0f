import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a `gitlab-ci-local` run printed and how it ended. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link GitLabCiLocalProject.create}. */
export interface ProjectOptions {
  /** The `.gitlab-ci.yml` to copy in. */
  readonly pipelineFile: string;
  /**
   * The branch the project is on (`CI_COMMIT_BRANCH`).
   * @default 'main'
   */
  readonly branch?: string;
  /**
   * The default branch, as `origin/HEAD` names it (`CI_DEFAULT_BRANCH`).
   * @default 'main'
   */
  readonly defaultBranch?: string;
  /**
   * Workspace entries (files or folders) to link into the project, so that jobs run with the shell executor see the
   * workspace's sources and node_modules without a copy. Jobs must not write through these links.
   * @default - none: enough for --list and --preview
   */
  readonly link?: { readonly from: string; readonly entries: string[] };
}

/** The fake remote: gitlab-ci-local derives CI_PROJECT_PATH, CI_SERVER_URL and the default branch from `origin`. */
const ORIGIN = 'https://gitlab.example.com/gitlab-fargate/gitlab-fargate.git';

/**
 * A throwaway git repository holding a copy of a `.gitlab-ci.yml`, with an `origin` remote and a default branch, in
 * which gitlab-ci-local runs without warnings about missing git data. The workspace itself has no remote, and
 * gitlab-ci-local's state folder never lands in it.
 */
export class GitLabCiLocalProject {
  static create(options: ProjectOptions): GitLabCiLocalProject {
    const dir = mkdtempSync(join(tmpdir(), 'gitlab-fargate-pipeline-'));
    const project = new GitLabCiLocalProject(dir);
    const branch = options.branch ?? 'main';
    const defaultBranch = options.defaultBranch ?? 'main';
    const git = (...args: string[]) => project.git(args);
    git('init', '--quiet', `--initial-branch=${defaultBranch}`);
    git('config', 'user.name', 'Pipeline Test');
    git('config', 'user.email', 'pipeline-test@example.com');
    git('config', 'commit.gpgsign', 'false');
    git('remote', 'add', 'origin', ORIGIN);
    copyFileSync(options.pipelineFile, join(dir, '.gitlab-ci.yml'));
    git('add', '.gitlab-ci.yml');
    git('commit', '--quiet', '--message', 'pipeline under test');
    git('update-ref', `refs/remotes/origin/${defaultBranch}`, 'HEAD');
    git('symbolic-ref', 'refs/remotes/origin/HEAD', `refs/remotes/origin/${defaultBranch}`);
    if (branch !== defaultBranch) git('checkout', '--quiet', '-b', branch);
    const link = options.link;
    for (const entry of link?.entries ?? []) {
      symlinkSync(resolve(link?.from ?? '.', entry), join(dir, entry));
    }
    return project;
  }

  private constructor(readonly dir: string) {}

  /**
   * Runs gitlab-ci-local in the project. Never throws for a non-zero exit: the result says how it ended.
   * @param args its arguments, e.g. `['--list']` or `['validate']`
   * @param variables pipeline variables (`--variable K=V`); predefined ones are overridden without a warning
   */
  async run(args: string[], variables: Record<string, string> = {}, unset: string[] = []): Promise<CommandResult> {
    const variableArgs = Object.entries(variables).flatMap(([key, value]) => ['--variable', `${key}=${value}`]);
    const overridden = [...Object.keys(variables), ...unset];
    const argv = [
      gitlabCiLocalBin(),
      ...args,
      ...variableArgs,
      ...unset.flatMap((name) => ['--unset-variable', name]),
      ...(overridden.length > 0 ? ['--ignore-predefined-vars', overridden.join(',')] : []),
      '--no-color',
    ];
    try {
      const { stdout, stderr } = await run(process.execPath, argv, {
        cwd: this.dir,
        maxBuffer: 64 * 1024 * 1024,
        // No HOME-level gitlab-ci-local variables of whoever runs the tests.
        env: { ...process.env, HOME: this.dir, FORCE_COLOR: '0' },
      });
      return { exitCode: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number | string; stdout?: string; stderr?: string };
      if (typeof failed.code !== 'number') throw error;
      return { exitCode: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  /** Deletes the project folder (the links in it, never what they point to). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private git(args: string[]): void {
    execFileSync('git', args, { cwd: this.dir, stdio: 'pipe' });
  }
}

/** The gitlab-ci-local entry point installed with this package (pinned: later versions need Node 22). */
export function gitlabCiLocalBin(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('gitlab-ci-local/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin['gitlab-ci-local'];
  if (bin === undefined) throw new Error(`${manifestPath} names no gitlab-ci-local executable.`);
  return join(dirname(manifestPath), bin);
}
