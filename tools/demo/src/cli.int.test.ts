import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DOCKER_LABELS } from '@gitlab-fargate/local-stack';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled CLI from the repository root, as `npm run demo` does; `onStdout` may act on the output so far. */
function runCli(args: readonly string[], onStdout?: (soFar: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Containers that the demo's emulator instance labelled, running or not. An empty answer proves nothing by itself
 * (a wrong label or instance matches nothing either): the Ctrl-C test first finds the running job's container with it.
 */
function containersOf(output: string): string[] {
  const instance = /\(instance ([0-9a-f-]{36})\)/.exec(output)?.[1];
  if (instance === undefined) throw new Error(`the demo names no emulator instance in its output:\n${output}`);
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${DOCKER_LABELS.instance}=${instance}`], { encoding: 'utf8' });
  return ids.split('\n').filter((id) => id !== '');
}

describe('gitlab-fargate-demo', () => {
  it('runs the seed job, the failing job and the image job with a service, prints timings and a summary, removes everything and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['--seconds', '2']);
    expect(stderr).not.toMatch(/NodeVersionSupportWarning/);
    expect(code, stdout + stderr).toBe(0);
    // Setup progress with elapsed seconds.
    expect(stdout).toMatch(/^\[\s*\d+\.\d s\] Building the ci-coordinator job image/m);
    expect(stdout).toMatch(/^\[\s*\d+\.\d s\] Creating cluster gitlab-runner-dev and task definition gitlab-runner-dev-task$/m);
    // The seed article's job, through the real driver: its task, its output, its timings.
    expect(stdout).toMatch(/Task arn:aws:ecs:eu-west-1:123456789012:task\/gitlab-runner-dev\/[0-9a-f]{32} created/);
    expect(stdout).toMatch(/^It works!\n.*for i in \$\(seq 1 2\); do echo "\."; sleep 1; done.*\n\.\n\.\n/m);
    expect(stdout).toMatch(/^ {2}prepare +\d+\.\d\d s {3}exit 0$/m);
    expect(stdout).toContain('Job succeeded');
    // The failing job: exit code 3 reported as a script failure, after_script still run.
    expect(stdout).toContain('1 of 3 tests failed');
    expect(stdout).toContain('after_script still runs after a failure (CI_JOB_STATUS=failed)');
    expect(stdout).toContain('Job failed: exit code 3');
    // The image: job: its script in the busybox image (no sshd), the service's state, the page read by its alias.
    expect(stdout).toMatch(/^Job image gitlab-fargate-demo\/busybox:local, service gitlab-fargate-demo\/httpd:local: task definition \S+-job-[0-9a-f]{16} \(registered\)$/m);
    expect(stdout).toMatch(/^Service svc-0 \(gitlab-fargate-demo\/httpd:local\) is ready on port 80 after \d+\.\d s$/m);
    expect(stdout).toMatch(/^No sshd, no bash here: this is the job image \(busybox only\)$/m);
    expect(stdout).toMatch(/^The service answers at http:\/\/web\/: Hello from the web service$/m);
    // The summary.
    expect(stdout).toMatch(/^Job +Outcome +Exit code +Prepare +Total +As expected$/m);
    expect(stdout).toMatch(/^test-dev +success +0 +\d+\.\d s +\d+\.\d s +yes$/m);
    expect(stdout).toMatch(/^failing-test +script_failure +3 +\d+\.\d s +\d+\.\d s +yes$/m);
    expect(stdout).toMatch(/^image-and-service +success +0 +\d+\.\d s +\d+\.\d s +yes$/m);
    expect(stdout).toMatch(
      /^Demo passed in \d+\.\d s: test-dev succeeded, failing-test failed with exit code 3 as expected, image-and-service succeeded; everything it started was removed\.$/m,
    );
    expect(containersOf(stdout)).toEqual([]);
  });

  it('on Ctrl-C cancels the running job, removes everything and exits 130', async () => {
    let interrupted = false;
    // What the "nothing left" check below finds while the job's script runs (its 60 s loop keeps the task up).
    let live: string[] | Error = [];
    const { code, stdout, stderr } = await runCli(['--seconds', '60'], (soFar, child) => {
      if (!interrupted && soFar.includes('It works!')) {
        interrupted = true;
        try {
          live = containersOf(soFar);
        } catch (error) {
          live = error as Error;
        } finally {
          child.kill('SIGINT');
        }
      }
    });
    expect(interrupted).toBe(true);
    expect(live, 'the running job\'s task container, found by the same filter').toEqual(expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{12}$/)]));
    expect(code, stdout + stderr).toBe(130);
    expect(stderr).toContain('SIGINT: cancelling the job and removing everything');
    expect(stdout).toMatch(/^test-dev +canceled /m);
    expect(stdout).toMatch(/Stopped task arn:aws:ecs:/);
    expect(stdout).toMatch(/^Demo cancelled after \d+\.\d s; everything it started was removed\.$/m);
    expect(containersOf(stdout)).toEqual([]);
  });

  it('prints its usage with --help and refuses a bad option before starting anything', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gitlab-fargate-demo \[--seconds N\] \[--verbose\]/);
    const bad = await runCli(['--seconds', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('gitlab-fargate-demo: --seconds must be a whole number from 1 to 300, found "many"\n');
  });
});
