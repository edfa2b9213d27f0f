import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

/** Runs the driver's main with `argv`, no AWS endpoint reachable, and returns its exit code and output. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await main({ argv, env, cwd: '/', stdout, stderr, stdoutFd: 1, stderrFd: 2, signal: new AbortController().signal });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('gitlab-fargate-driver managers', () => {
  it('prints its help, naming every setting', async () => {
    const { code, stdout } = await run(['managers', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: gitlab-fargate-driver managers reconcile/);
    for (const name of ['MANAGER_TASK_DEFINITION', 'MANAGER_COUNT', 'MANAGER_SUBNETS', 'MANAGER_DRAIN_TIMEOUT_SECONDS', 'GITLAB_FARGATE_MANAGER_VERSION']) {
      expect(stdout).toContain(name);
    }
  });

  it('refuses another word, and bad settings before any AWS call, with exit code 1', async () => {
    const wrong = await run(['managers', 'start']);
    expect(wrong).toMatchObject({ code: 1, stdout: '' });
    expect(wrong.stderr).toContain('managers: expected "managers reconcile", found "start"');
    // No endpoint and no credentials: had it called AWS, the message would be the SDK's, not the settings'.
    const bad = await run(['managers', 'reconcile'], { CLUSTER: 'ci', MANAGER_COUNT: 'two' });
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toMatch(/^gitlab-fargate manager controller failed: managers reconcile: bad settings/);
    expect(bad.stderr).toContain('MANAGER_COUNT must be a number of managers from 1 to 10, found "two"');
    expect(bad.stderr).toContain('MANAGER_TASK_DEFINITION must be a task definition with its revision');
  });
});
