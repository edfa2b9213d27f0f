import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ansiCQuote, stageScript, userCommands } from './bash-script.js';

function runBash(script: string): { status: number | null; stdout: string } {
  const result = spawnSync('bash', ['-s'], { input: script, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout };
}

describe('ansiCQuote', () => {
  it('round-trips awkward text through bash', () => {
    const text = `quotes ' " \\ $HOME \`date\` tab\tnewline\n bell\u0007 ünïcödé`;
    const { stdout } = runBash(`printf '%s' ${ansiCQuote(text)}`);
    expect(stdout).toBe(text);
  });
});

describe('stageScript', () => {
  it('exports variables, enters the folder and runs commands with errexit', () => {
    const dir = `/tmp/harness-test-${process.pid}`;
    const script = stageScript({
      variables: { GREETING: "it's here" },
      workingDirectory: dir,
      body: userCommands(['echo "$GREETING in $(pwd)"', 'false', 'echo never']),
    });
    const result = runBash(script);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(`\u001b[32;1m$ echo "$GREETING in $(pwd)"\u001b[0;m\nit's here in ${dir}\n\u001b[32;1m$ false\u001b[0;m\n`);
  });

  it('keeps the script exit code and fails pipelines', () => {
    expect(runBash(stageScript({ variables: {}, body: ['exit 3'] })).status).toBe(3);
    expect(runBash(stageScript({ variables: {}, body: ['false | true', 'echo unreachable'] })).stdout).toBe('');
    expect(runBash(stageScript({ variables: {}, body: ['echo ok'] })).status).toBe(0);
  });
});
