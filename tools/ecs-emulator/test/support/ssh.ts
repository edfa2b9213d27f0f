import ssh2 from 'ssh2';

export interface KeyPair {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** The wire form of an ed25519 public key: string "ssh-ed25519" (4 + 11 bytes) + string key (4 + 32 bytes). */
const ED25519_WIRE_BYTES = 51;

/**
 * A fresh ed25519 key pair. ssh2 1.17.0 drops a leading zero byte of the public key, so about one pair in 256 is
 * malformed (https://github.com/mscdex/ssh2/issues/1513) and the test using it fails at random; such a pair is
 * drawn again.
 */
export function newKeyPair(): KeyPair {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const { public: publicKey, private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519');
    if (Buffer.from(publicKey.split(' ')[1] ?? '', 'base64').length === ED25519_WIRE_BYTES) return { publicKey, privateKey };
  }
  throw new Error('ssh2 made no well-formed ed25519 key pair in 8 attempts');
}

/** Runs one command over SSH as root and returns its output and exit code. */
export function sshExec(host: string, privateKey: string, command: string, readyTimeout = 3000): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client
      .on('ready', () => {
        client.exec(command, (error, stream) => {
          if (error) {
            client.end();
            reject(error);
            return;
          }
          let stdout = '';
          stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          stream.stderr.on('data', () => undefined);
          stream.on('close', (code: number) => {
            client.end();
            resolve({ stdout, code });
          });
        });
      })
      .on('error', reject)
      .connect({ host, port: 22, username: 'root', privateKey, readyTimeout });
  });
}

/** Retries `sshExec` until it succeeds or `timeoutMs` passes; returns the result and when it first worked. */
export async function sshExecWhenReady(
  host: string,
  privateKey: string,
  command: string,
  timeoutMs = 15_000,
): Promise<{ stdout: string; code: number; readyAt: number; attempts: number }> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const result = await sshExec(host, privateKey, command);
      return { ...result, readyAt: Date.now(), attempts };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
