import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnvironment, type ProcessResult, runProcess } from './process.js';

/**
 * An empty project in the system temp folder, outside the workspace, where packages are installed the way a user
 * installs them: from tarballs and the registry, with nothing of the monorepo in reach.
 */
export class Sandbox {
  static create(label: string): Sandbox {
    const dir = mkdtempSync(join(tmpdir(), `gitlab-fargate-${label}-`));
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `sandbox-${label}`, private: true }, null, 2)}\n`);
    return new Sandbox(dir);
  }

  private constructor(readonly dir: string) {}

  /**
   * `npm install` of tarball paths and registry specs together (`./a.tgz ./b.tgz aws-cdk-lib@2.276.0`): a tarball
   * depending on a sibling finds it among the others, since siblings are not on the registry. Prefers the npm
   * cache, which `npm ci` left warm. Throws with npm's output when the install fails.
   */
  async install(specs: string[]): Promise<void> {
    const result = await runProcess(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
      { cwd: this.dir },
    );
    if (result.exitCode !== 0) {
      throw new Error(`npm install ${specs.join(' ')} failed in ${this.dir} (exit ${result.exitCode}):\n${result.stderr}`);
    }
  }

  /** Runs an installed command (`node_modules/.bin/NAME`) in the sandbox. */
  runBin(name: string, args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
    return runProcess(join(this.dir, 'node_modules', '.bin', name), args, { cwd: this.dir, env: cleanEnvironment(env) });
  }

  /** Runs `node` with a script in the sandbox, which resolves packages from the sandbox's node_modules. */
  runNode(args: string[]): Promise<ProcessResult> {
    return runProcess(process.execPath, args, { cwd: this.dir });
  }

  /** Writes a file into the sandbox and returns its path. */
  write(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
