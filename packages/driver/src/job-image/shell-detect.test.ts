import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETECTED_SHELLS, detectShellCommand } from './shell-detect.js';

describe('detectShellCommand', () => {
  it('runs the script from stdin with the first shell found, bash on this machine', () => {
    const run = spawnSync('sh', ['-c', detectShellCommand()], {
      input: 'echo "$BASH_VERSION" | grep -q . && echo bash || echo sh\nexit 7\n',
      env: { ...process.env, SHELL: '/bin/sh' },
    });
    expect(run.stdout.toString()).toBe('bash\n');
    expect(run.status).toBe(7);
  });

  it('checks bash before sh, in gitlab-runner order, and ends with the agent sh', () => {
    expect(DETECTED_SHELLS.indexOf('/bin/bash')).toBeLessThan(DETECTED_SHELLS.indexOf('/bin/sh'));
    expect(DETECTED_SHELLS.at(-1)).toBe('/opt/gf/sh');
  });

  it('has no single quote inside its quoted loop, so the session shell parses it as one argument', () => {
    const quoted = detectShellCommand().slice('"$SHELL" -c \''.length, -1);
    expect(quoted).not.toContain("'");
  });

  it('keeps the process id: exec all the way, so a signal to the recorded pid reaches the script', () => {
    const dir = mkdtempSync(join(tmpdir(), 'detect-'));
    const wrapper = join(dir, 'run');
    writeFileSync(wrapper, `#!/bin/sh\necho $$ > ${dir}/pid; exec ${detectShellCommand()}\n`);
    chmodSync(wrapper, 0o755);
    const run = spawnSync(wrapper, [], { input: 'echo $$\n', env: { ...process.env, SHELL: '/bin/sh' } });
    expect(run.stdout.toString().trim()).toBe(readFileSync(join(dir, 'pid'), 'utf8').trim());
  });
});
