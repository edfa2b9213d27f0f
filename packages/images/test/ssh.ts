import ssh2 from 'ssh2';
import type { ConnectConfig, NegotiatedAlgorithms } from 'ssh2';

/**
 * How long a handshake may take before the client gives up: generous, as sshd answers slowly on a machine loaded far
 * past its cores (and under qemu); a refusal the tests expect arrives as its own error well before.
 */
const SSH_READY_TIMEOUT_MS = 60_000;

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Opens an SSH connection; rejects with the client's error (e.g. authentication failure). Until the connection is
 * ready every error is heard: a server going away mid-handshake can emit more than one, and an unheard one would
 * crash the test run. Errors after that are the caller's to handle.
 */
export function connect(config: ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const failed = (error: Error): void => {
      reject(error);
      client.end();
    };
    client.on('error', failed);
    client.once('ready', () => {
      client.off('error', failed);
      resolve(client);
    });
    client.connect({ readyTimeout: SSH_READY_TIMEOUT_MS, ...config });
  });
}

/** Opens an SSH connection and reports the algorithms the handshake settled on; errors are heard as in {@link connect}. */
export function connectNegotiating(config: ConnectConfig): Promise<{ client: ssh2.Client; negotiated: NegotiatedAlgorithms }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let negotiated: NegotiatedAlgorithms | undefined;
    const failed = (error: Error): void => {
      reject(error);
      client.end();
    };
    client.once('handshake', (algorithms: NegotiatedAlgorithms) => (negotiated = algorithms));
    client.once('ready', () => {
      client.off('error', failed);
      return negotiated ? resolve({ client, negotiated }) : reject(new Error('ready without a handshake event'));
    });
    client.on('error', failed);
    client.connect({ readyTimeout: SSH_READY_TIMEOUT_MS, ...config });
  });
}

/**
 * Runs one command, optionally feeding `stdin`, and collects its output and exit code. Rejects when the connection
 * closes first (a server that went away mid-command), which ssh2 does not report on the channel itself.
 */
export function exec(client: ssh2.Client, command: string, stdin?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const connectionClosed = (): void => reject(new Error(`the SSH connection closed before "${command}" ended`));
    client.once('close', connectionClosed);
    client.exec(command, (error, channel) => {
      if (error) {
        client.off('close', connectionClosed);
        reject(error);
        return;
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      channel.on('exit', (exitCode: number | null) => (code = exitCode));
      channel.on('close', () => {
        client.off('close', connectionClosed);
        resolve({ code, stdout, stderr });
      });
      channel.end(stdin);
    });
  });
}

/** ed25519 public keys are always 32 bytes; their wire form is string "ssh-ed25519" + string key. */
const ED25519_WIRE_BYTES = 4 + 11 + 4 + 32;

/**
 * A fresh ed25519 key pair that ssh2 and sshd accept. ssh2 1.17.0 drops a leading zero byte of the public key, so
 * about one pair in 256 comes out malformed (https://github.com/mscdex/ssh2/issues/1513) and a test using it fails
 * at random, with "Cannot parse privateKey" or a refused login. Such a pair is drawn again, as the driver's
 * generateJobKeyPair does for job keys.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(keys.private);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    const wire = key instanceof Error ? undefined : key?.getPublicSSH();
    if (wire?.length === ED25519_WIRE_BYTES && Buffer.from(keys.public.split(' ')[1] ?? '', 'base64').equals(wire)) {
      return keys;
    }
  }
  throw new Error('ssh2 made no well-formed ed25519 key pair in 8 attempts');
}
