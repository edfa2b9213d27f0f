import ssh2 from 'ssh2';

/** A per-job SSH key pair. */
export interface JobKeyPair {
  /** OpenSSH-format private key; lives only in the state file (mode 0600) and is never logged. */
  readonly privateKey: string;
  /** One authorized_keys line (`ssh-ed25519 AAAA… comment`), handed to the task as `SSH_PUBLIC_KEY`. */
  readonly publicKey: string;
}

/**
 * Generates a fresh ed25519 key pair for one job. ed25519 takes well under a millisecond (upstream's RSA-4096
 * took up to seconds) and is accepted by every OpenSSH release that still runs.
 */
export function generateJobKeyPair(comment: string): JobKeyPair {
  const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: keys.private, publicKey: keys.public };
}
