import ssh2 from 'ssh2';

/** A per-job SSH key pair. */
export interface JobKeyPair {
  /** OpenSSH-format private key; lives only in the state file (mode 0600) and is never logged. */
  readonly privateKey: string;
  /** One authorized_keys line (`ssh-ed25519 AAAA… comment`), handed to the task as `SSH_PUBLIC_KEY`. */
  readonly publicKey: string;
}

/** ed25519 public keys are always 32 bytes. */
const ED25519_KEY_BYTES = 32;

/**
 * Generates a fresh ed25519 key pair for one job. ed25519 takes well under a millisecond (upstream's RSA-4096
 * took up to seconds) and is accepted by every OpenSSH release that still runs.
 *
 * ssh2 1.17.0 drops a leading zero byte of the public key (as if it were a number), so one key in 256 comes out
 * 31 bytes long: neither ssh2 nor sshd accepts it, and the job would fail at its first SSH connection. Such a
 * pair is discarded and a new one drawn; eight misses in a row happen once in 2^64.
 */
export function generateJobKeyPair(comment: string): JobKeyPair {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (isWellFormed(keys.private, keys.public)) {
      return { privateKey: keys.private, publicKey: keys.public };
    }
  }
  throw new Error('could not generate a well-formed ed25519 key pair in 8 attempts (ssh2 key generation is broken)');
}

function isWellFormed(privateKey: string, publicKey: string): boolean {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) return false;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  // The wire form is string "ssh-ed25519" + string key: 4 + 11 + 4 + 32 bytes.
  const wire = key?.getPublicSSH();
  const line = publicKey.split(' ')[1] ?? '';
  return wire !== undefined && wire.length === 4 + 11 + 4 + ED25519_KEY_BYTES && Buffer.from(line, 'base64').equals(wire);
}
