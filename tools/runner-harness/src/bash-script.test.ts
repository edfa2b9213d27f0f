import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportLines, frameScript, shellEscape, stageScript, userCommands, type ScriptShape } from './bash-script.js';

const dir = mkdtempSync(join(tmpdir(), 'harness-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shapes: ScriptShape[] = ['19.1', '19.0'];

/** Runs a script as drivers do: a file given to bash, with something waiting on stdin that it must not read. */
function runBash(script: string): { status: number | null; stdout: string } {
  const path = join(dir, `script-${Math.random().toString(16).slice(2)}`);
  writeFileSync(path, script, { mode: 0o700 });
  const result = spawnSync('bash', [path], { input: 'stdin-must-stay-unread\n', encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout };
}

describe('shellEscape', () => {
  it("escapes as gitlab-runner's helpers.ShellEscape does (its own test table)", () => {
    // From https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/helpers/shell_escape_test.go (TestShellEscape).
    const table: [string, string][] = [
      ['unquoted', 'unquoted'],
      ['standard string', "$'standard string'"],
      ['+\t\n\r&', "$'+\\t\\n\\r&'"],
      ['', "''"],
      ['hello, 世界', "$'hello, \\xe4\\xb8\\x96\\xe7\\x95\\x8c'"],
      ['blackslash \\n', "$'blackslash \\\\n'"],
      ['f', 'f'],
      ['\f', "$'\\f'"],
      ["export variable='test' && echo $variable", "$'export variable=\\'test\\' && echo $variable'"],
      ['$HOME', "$'$HOME'"],
      ["'$HOME'", "$'\\'$HOME\\''"],
    ];
    for (const [input, output] of table) expect(shellEscape(input), JSON.stringify(input)).toBe(output);
  });

  it('round-trips awkward text through bash', () => {
    const text = `quotes ' " \\ $HOME \`date\` tab\tnewline\n bell\u0007 del\u007f ünïcödé 世界`;
    expect(runBash(`printf '%s' ${shellEscape(text)}`).stdout).toBe(text);
  });
});

describe('frameScript', () => {
  it.each(shapes)("frames a body exactly as gitlab-runner %s's BashWriter.Finish does", (shape) => {
    const fixture = readFileSync(new URL(`./fixtures/stage-scripts/gitlab-runner-${shape}.sh`, import.meta.url), 'utf8');
    expect(frameScript('echo hi\n', shape)).toBe(fixture);
  });

  it.each([['19.1', 1], ['19.0', 143]] as const)('%s: SIGTERM to the process group ends the script with exit %i', async (shape, code) => {
    // 19.1 re-installs the TERM trap in the subshell so the stage exits 1 (gitlab-runner issue 39005); 19.0's
    // bare `exit` keeps the status of the killed pipeline.
    const path = join(dir, `term-${shape}`);
    writeFileSync(path, frameScript('echo started\nsleep 30\necho never\n', shape), { mode: 0o700 });
    const child = spawn('bash', [path], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('started\n')) process.kill(-child.pid!, 'SIGTERM');
    });
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(status).toBe(code);
    expect(stdout).toBe('started\n');
  });
});

describe('stageScript', () => {
  it.each(shapes)('%s: exports variables, enters the folder, echoes and runs commands with errexit, stdin closed', (shape) => {
    const script = stageScript({
      shape,
      variables: { GREETING: "it's here" },
      workingDirectory: dir,
      body: userCommands(['echo "$GREETING in $(pwd)"', 'cat', 'false', 'echo never']),
    });
    const result = runBash(script);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(`\u001b[32;1m$ echo "$GREETING in $(pwd)"\u001b[0;m\nit's here in ${dir}\n` +
      '\u001b[32;1m$ cat\u001b[0;m\n\u001b[32;1m$ false\u001b[0;m\n');
  });

  it.each(shapes)('%s: keeps the script exit code and fails pipelines', (shape) => {
    expect(runBash(stageScript({ shape, variables: {}, body: ['exit 3'] })).status).toBe(3);
    expect(runBash(stageScript({ shape, variables: {}, body: ['false | true', 'echo unreachable'] })).stdout).toBe('');
    expect(runBash(stageScript({ shape, variables: {}, body: ['echo ok'] })).status).toBe(0);
  });

  it('writes file variables with printf before the body, and sets up GITLAB_ENV', () => {
    const tmp = join(dir, 'project.tmp');
    const content = 'Host *\n  User git ünïcödé\n';
    const script = stageScript({
      variables: { SSH_CONFIG: content, PLAIN: 'x' }, fileVariables: ['SSH_CONFIG'], temporaryPath: tmp,
      body: ['echo "$SSH_CONFIG"', 'cat "$SSH_CONFIG"', 'echo "FROM_EARLIER=1" >> "$GITLAB_ENV"'],
    });
    expect(exportLines({ variables: { SSH_CONFIG: content }, fileVariables: ['SSH_CONFIG'], temporaryPath: tmp }).slice(0, 3)).toEqual([
      `mkdir -p "${tmp}"`,
      String.raw`printf '%s' $'Host *\n  User git \xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9\n' > ` + `"${tmp}/SSH_CONFIG"`,
      `export SSH_CONFIG="${tmp}/SSH_CONFIG"`,
    ]);
    expect(runBash(script)).toEqual({ status: 0, stdout: `${tmp}/SSH_CONFIG\n${content}` });
    expect(readFileSync(join(tmp, 'SSH_CONFIG'), 'utf8')).toBe(content);
    // A later stage sees what an earlier one appended to GITLAB_ENV.
    expect(runBash(stageScript({ variables: {}, temporaryPath: tmp, body: ['echo "$FROM_EARLIER"'] })).stdout).toBe('1\n');
  });

  it('exports file variables as paths only in cleanup, and nothing in prepare_script', () => {
    const tmp = join(dir, 'other.tmp');
    const pathsOnly = stageScript({ variables: { KEY: 'secret' }, fileVariables: ['KEY'], temporaryPath: tmp, exports: 'paths-only', body: ['echo "$KEY"'] });
    expect(runBash(pathsOnly).stdout).toBe(`${tmp}/KEY\n`);
    expect(pathsOnly).not.toContain('secret');
    const none = stageScript({ variables: { KEY: 'secret' }, temporaryPath: tmp, exports: 'none', body: ['echo "${KEY-unset} ${GITLAB_ENV-unset}"'] });
    expect(runBash(none).stdout).toBe('unset unset\n');
  });

  it('shows a multi-line command by its first line, as gitlab-runner collapses it', () => {
    expect(userCommands(['  echo one\necho two  '])).toEqual([
      `echo ${shellEscape('\u001b[32;1m$ echo one # collapsed multi-line command\u001b[0;m')}`, 'echo one\necho two',
    ]);
  });
});
