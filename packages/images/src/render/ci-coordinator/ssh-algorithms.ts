import type { HostKeyType } from '../../spec/ci-coordinator.js';

/**
 * The algorithms sshd in the job container offers, pinned instead of OpenSSH's defaults (which still include
 * NIST ECDH, SHA-1 MACs and ecdsa/rsa keys). Mozilla's "modern" OpenSSH guideline, narrowed to what the driver's
 * client, the npm `ssh2` library (1.17, default algorithm lists), negotiates: it picks the first entry of each list.
 * Every name exists since OpenSSH 8.5 (Debian 12, Ubuntu 22.04); the build's `sshd -t` refuses an older sshd.
 */
export const SSH_KEX_ALGORITHMS: readonly string[] = ['curve25519-sha256', 'curve25519-sha256@libssh.org'];

/** AEAD ciphers first; the CTR modes only ever run with the encrypt-then-MAC MACs below. */
export const SSH_CIPHERS: readonly string[] = [
  'chacha20-poly1305@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-gcm@openssh.com',
  'aes256-ctr',
  'aes128-ctr',
];

/** Encrypt-then-MAC with SHA-2 only (no SHA-1, no MAC-then-encrypt). */
export const SSH_MACS: readonly string[] = ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'];

/** The signature algorithms each generated host key type is offered with. */
const HOST_KEY_ALGORITHMS: Readonly<Record<HostKeyType, readonly string[]>> = {
  ed25519: ['ssh-ed25519'],
  // ssh-keygen's default ECDSA size is 256 bits.
  ecdsa: ['ecdsa-sha2-nistp256'],
  // RSA with SHA-2 only: never the SHA-1 "ssh-rsa" signature.
  rsa: ['rsa-sha2-512', 'rsa-sha2-256'],
};

/** The host key algorithms sshd offers for the host key types it generates. */
export function hostKeyAlgorithms(types: readonly HostKeyType[]): string[] {
  return types.flatMap((type) => HOST_KEY_ALGORITHMS[type]);
}

/** The only job key type: the driver generates an ed25519 key per job, and sshd accepts nothing else. */
export const JOB_KEY_TYPE = 'ssh-ed25519';
