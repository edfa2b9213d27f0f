import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateJobKeyPair } from './keys.js';

describe('generateJobKeyPair', () => {
  it('makes a matching OpenSSH private key and authorized_keys line with the comment', () => {
    const keys = generateJobKeyPair('job-42');
    expect(keys.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n?$/);
    expect(keys.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} job-42$/);
    const parsed = ssh2.utils.parseKey(keys.privateKey);
    expect(parsed).not.toBeInstanceOf(Error);
    expect((parsed as ssh2.ParsedKey).getPublicSSH().toString('base64')).toBe(keys.publicKey.split(' ')[1]);
  });

  it('never hands out a key ssh2 or sshd would refuse (ssh2 1.17.0 truncates 1 key in 256)', () => {
    // 3000 pairs: without the guard, the chance that none is truncated is (255/256)^3000, about 1 in 120000.
    for (let i = 0; i < 3000; i += 1) {
      const keys = generateJobKeyPair('job');
      const parsed = ssh2.utils.parseKey(keys.privateKey);
      expect(parsed).not.toBeInstanceOf(Error);
      expect(Buffer.from(keys.publicKey.split(' ')[1]!, 'base64')).toHaveLength(4 + 11 + 4 + 32);
    }
  });
});
