import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../../../test/paths.js';
import { EXPORT_RUNNER_IDENTITY_FUNCTION, RUNNER_IDENTITY_VARIABLE, SHORTEN_RUNNER_TOKEN_FUNCTION } from './runner-identity.js';

/** Runs `script` in bash after the entrypoint's functions (its `log` writes to stderr, as the entrypoint's does). */
function bash(script: string, env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const functions = [`log() { printf 'runner-manager: %s\\n' "$*" >&2; }`, SHORTEN_RUNNER_TOKEN_FUNCTION, EXPORT_RUNNER_IDENTITY_FUNCTION];
  const result = spawnSync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', `${functions.join('\n')}\n${script}`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    // Not a socket on stdin: bash would take itself for a remote shell and read ~/.bashrc.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('shorten_runner_token', () => {
  // The cases of gitlab-runner's own TestShortenToken (helpers/shorten_token_test.go, gitlab-runner 18/19).
  const upstreamCases: Array<[string, string]> = [
    ['short', 'short'],
    ['veryverylongtoken', 'veryveryl'],
    ['t1_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['t2_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['t3_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['t4_t9Wkyj-HGRkqQ-VWTGAr', 't4_t9Wkyj'],
    ['glrt-t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glrt-t1_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glrtr-t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glrtr-t1_t9Wkyj-HGRkqQ-VWTGAr', 't1_t9Wkyj'],
    ['glcbt-t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glcbt-t2_t9Wkyj-HGRkqQ-VWTGAr', 't2_t9Wkyj'],
    ['GR1348941Z196cJVywzZpx_Ki_Cn2', 'Z196cJVyw'],
    ['GR134894-196cJVywzZpx_Ki_Cn2', 'GR134894-'],
  ];

  it.each(upstreamCases)('shortens %s to %s, as gitlab-runner does', (token, short) => {
    const result = bash('shorten_runner_token "$TOKEN"', { TOKEN: token });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(short);
  });
});

describe('export_runner_identity', () => {
  const show = `export_runner_identity; printf '%s' "\${${RUNNER_IDENTITY_VARIABLE}-UNSET}"; bash --norc -c 'printf " child=%s" "\${${RUNNER_IDENTITY_VARIABLE}-UNSET}"'`;

  it('derives the short token from RUNNER_TOKEN and exports it to the commands started after it', () => {
    const result = bash(show, { RUNNER_TOKEN: 'glrt-t3_AbCdEfGhIjKlMnOpQrStU' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('AbCdEfGhI child=AbCdEfGhI');
    expect(result.stderr).toBe(`runner-manager: runner identity (${RUNNER_IDENTITY_VARIABLE}) derived from RUNNER_TOKEN: AbCdEfGhI\n`);
  });

  it('keeps a value given to the container, whatever RUNNER_TOKEN says', () => {
    const result = bash(show, { RUNNER_TOKEN: 'glrt-t3_AbCdEfGhIjKlMnOpQrStU', [RUNNER_IDENTITY_VARIABLE]: 'given1234' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('given1234 child=given1234');
  });

  it('sets nothing without a runner token', () => {
    const result = bash(show);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('UNSET child=UNSET');
  });
});

describe('RUNNER_IDENTITY_VARIABLE', () => {
  it("is the driver's RUNNER_IDENTITY_VARIABLE (packages/driver/src/job/environment.ts)", () => {
    // This package cannot depend on the driver; its source is the one home of the name.
    const source = readFileSync(join(PACKAGE_DIR, '../driver/src/job/environment.ts'), 'utf8');
    const driverName = /^export const RUNNER_IDENTITY_VARIABLE = '([A-Z0-9_]+)';$/m.exec(source)?.[1];
    expect(driverName).toBe(RUNNER_IDENTITY_VARIABLE);
  });
});
