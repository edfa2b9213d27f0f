import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI_KEY_FINGERPRINT, AWS_CLI_PUBLIC_KEY } from './aws-cli/aws-cli-key.js';
import { PGP_VERIFY_COMMAND, PGP_VERIFY_FUNCTION } from './pgp-verify.js';

const hasGpg = spawnSync('gpg', ['--version']).status === 0;
if (!hasGpg) {
  console.warn('gpg is not installed: the signature check tests are skipped (apt-get install gpg)');
}

/**
 * Runs the Dockerfile's function, as the RUN does (bash, set -eu), and returns its exit code and stderr. Its
 * throwaway GnuPG home goes under `tmp` (mktemp follows TMPDIR), so that a gpg-agent it leaves is found there.
 */
function verify(tmp: string, key: string, fingerprint: string, file: string, signature: string): { code: number | null; stderr: string } {
  const script = ['set -eu', ...PGP_VERIFY_FUNCTION, `${PGP_VERIFY_COMMAND} "$@"`].join('\n');
  const result = spawnSync('bash', ['-c', script, 'bash', key, fingerprint, file, signature], {
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: tmp },
  });
  return { code: result.status, stderr: result.stderr };
}

/** The live processes whose command line names `dir` (gpg-agent runs with `--homedir HOME`); zombies have none. */
function processesUnder(dir: string): string[] {
  const result = spawnSync('pgrep', ['-a', '-f', dir], { encoding: 'utf8' });
  return result.stdout.split('\n').filter((line) => line !== '' && !line.includes('pgrep'));
}

/**
 * Stops the GnuPG daemons of `homes`, then waits until no process names `dir` any more: gpgconf asks an agent to
 * stop and returns before it has exited. Returns what is still running after 10 s (nothing, when all went well).
 */
function stopGnupgDaemons(dir: string, homes: readonly string[]): string[] {
  for (const home of homes) {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
  }
  const deadline = Date.now() + 10_000;
  let left = processesUnder(dir);
  while (left.length > 0 && Date.now() < deadline) {
    spawnSync('sleep', ['0.05']);
    left = processesUnder(dir);
  }
  return left;
}

/** A throwaway signing key in its own GnuPG home (the test's stand-in for AWS's key). */
class ThrowawayKey {
  private constructor(
    readonly home: string,
    readonly fingerprint: string,
    readonly publicKeyFile: string,
    private readonly fakedTime: string[],
  ) {}

  /** `fakedTime` (gpg's --faked-system-time) makes a key that lived and signed in the past. */
  static create(dir: string, name: string, options: { expires: string; fakedTime?: string }): ThrowawayKey {
    const home = join(dir, `${name}-gnupg`);
    const faked = options.fakedTime ? ['--faked-system-time', options.fakedTime] : [];
    gpg(home, [...faked, '--passphrase', '', '--quick-gen-key', `${name} <${name}@example.invalid>`, 'ed25519', 'sign', options.expires]);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(home, ['--with-colons', '--list-keys']))?.[1] ?? '';
    const publicKeyFile = join(dir, `${name}.asc`);
    gpg(home, ['--armor', '--output', publicKeyFile, '--export', fingerprint]);
    return new ThrowawayKey(home, fingerprint, publicKeyFile, faked);
  }

  /** Signs `file`; the signature goes to a file named after this key. */
  sign(file: string): string {
    const signature = `${file}.${this.home.slice(this.home.lastIndexOf('/') + 1)}.sig`;
    gpg(this.home, [...this.fakedTime, '--yes', '--detach-sign', '--output', signature, file]);
    return signature;
  }

}

function gpg(home: string, args: string[]): string {
  spawnSync('mkdir', ['-p', '-m', '0700', home]);
  const result = spawnSync('gpg', ['--batch', '--homedir', home, ...args], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`gpg ${args.join(' ')} failed: ${result.stderr}`);
  }
  return result.stdout;
}

describe.skipIf(!hasGpg)('the Dockerfile’s PGP signature check (verify_pgp_signature)', () => {
  let dir: string;
  let publisher: ThrowawayKey;
  let stranger: ThrowawayKey;
  let expired: ThrowawayKey;
  let file: string;
  let signature: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgp-verify-'));
    publisher = ThrowawayKey.create(dir, 'publisher', { expires: '1d' });
    stranger = ThrowawayKey.create(dir, 'stranger', { expires: '1d' });
    // A trailing '!' freezes gpg's clock there: without it each gpg process starts its clock anew at that instant, so
    // a key made by a slow --quick-gen-key looks 'created in the future' to the next process, which then cannot sign.
    expired = ThrowawayKey.create(dir, 'expired', { expires: '1d', fakedTime: '20250101T000000!' });
    file = join(dir, 'awscliv2.zip');
    await writeFile(file, 'the installer\n');
    signature = publisher.sign(file);
  });
  afterAll(async () => {
    if (!dir) return;
    // Key generation and signing start a gpg-agent per home, and so does the function's import in its own home
    // (under dir too, through TMPDIR): none may outlive the tests.
    const left = stopGnupgDaemons(dir, [publisher, stranger, expired].flatMap((key) => (key ? [key.home] : [])));
    await rm(dir, { recursive: true, force: true });
    expect(left, 'GnuPG daemons still running after the tests').toEqual([]);
  });

  it('accepts a good signature by the pinned key', () => {
    const result = verify(dir, publisher.publicKeyFile, publisher.fingerprint, file, signature);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Good signature from "publisher <publisher@example.invalid>"');
  });

  it('refuses a tampered file', async () => {
    const tampered = join(dir, 'tampered.zip');
    await writeFile(tampered, 'the installer, with a backdoor\n');
    const result = verify(dir, publisher.publicKeyFile, publisher.fingerprint, tampered, signature);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('BAD signature');
    expect(result.stderr).toContain(`${signature} is not a good signature of ${tampered} by the key ${publisher.fingerprint}`);
  });

  it('refuses a file signed by another key than the one in the key file', () => {
    const result = verify(dir, publisher.publicKeyFile, publisher.fingerprint, file, stranger.sign(file));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a good signature');
  });

  it('refuses a key file that holds another key than the pinned fingerprint, even with a good signature by it', () => {
    const result = verify(dir, stranger.publicKeyFile, publisher.fingerprint, file, stranger.sign(file));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${stranger.publicKeyFile} does not hold the key with fingerprint ${publisher.fingerprint}\n`);
  });

  it('refuses a missing key file or signature', () => {
    const missingKey = verify(dir, join(dir, 'missing.asc'), publisher.fingerprint, file, signature);
    expect(missingKey).toEqual({ code: 1, stderr: `the key file ${join(dir, 'missing.asc')} is missing or empty\n` });
    const missingSignature = verify(dir, publisher.publicKeyFile, publisher.fingerprint, file, join(dir, 'missing.sig'));
    expect(missingSignature.code).toBe(1);
    expect(missingSignature.stderr).toContain('is not a good signature');
  });

  it('refuses a signature by a key that has expired, saying to update the key', async () => {
    const old = join(dir, 'old.zip');
    await writeFile(old, 'an old installer\n');
    const result = verify(dir, expired.publicKeyFile, expired.fingerprint, old, expired.sign(old));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`is signed by ${expired.fingerprint}, but that key has expired: update ${expired.publicKeyFile}`);
  });

  it('with AWS’s embedded key, refuses what AWS did not sign', async () => {
    const awsKey = join(dir, 'aws-cli-public-key.asc');
    await writeFile(awsKey, AWS_CLI_PUBLIC_KEY);
    const result = verify(dir, awsKey, AWS_CLI_KEY_FINGERPRINT, file, signature);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a good signature');
  });
});

describe.skipIf(!hasGpg)('the embedded AWS CLI key', () => {
  it('is the key AWS documents: fingerprint FB5D B77F D5C1 18B8 0511 ADA8 A631 0ACC 4672 475C, valid self-signature', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-cli-key-'));
    try {
      await writeFile(join(dir, 'key.asc'), AWS_CLI_PUBLIC_KEY);
      // Importing checks the self-signatures: a damaged copy loses its user ID and is refused.
      gpg(join(dir, 'gnupg'), ['--import', join(dir, 'key.asc')]);
      const listing = gpg(join(dir, 'gnupg'), ['--with-colons', '--fixed-list-mode', '--list-keys']);
      expect([...listing.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((match) => match[1])).toEqual([
        'FB5D B77F D5C1 18B8 0511 ADA8 A631 0ACC 4672 475C'.replaceAll(' ', ''),
      ]);
      expect(AWS_CLI_KEY_FINGERPRINT).toBe('FB5DB77FD5C118B80511ADA8A6310ACC4672475C');
      expect(listing).toMatch(/^uid:-::::\d+::[0-9A-F]+::AWS CLI Team <aws-cli@amazon\.com>:/m);
    } finally {
      const left = stopGnupgDaemons(dir, [join(dir, 'gnupg')]);
      await rm(dir, { recursive: true, force: true });
      expect(left, 'GnuPG daemons still running after the test').toEqual([]);
    }
  });
});
