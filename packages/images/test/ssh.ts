import ssh2 from 'ssh2';
import type { ConnectConfig, NegotiatedAlgorithms } from 'ssh2';

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Opens an SSH connection; rejects with the client's error (e.g. authentication failure). */
export function connect(config: ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({ readyTimeout: 20_000, ...config });
  });
}

/** Opens an SSH connection and reports the algorithms the handshake settled on. */
export function connectNegotiating(config: ConnectConfig): Promise<{ client: ssh2.Client; negotiated: NegotiatedAlgorithms }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let negotiated: NegotiatedAlgorithms | undefined;
    client.once('handshake', (algorithms: NegotiatedAlgorithms) => (negotiated = algorithms));
    client.once('ready', () =>
      negotiated ? resolve({ client, negotiated }) : reject(new Error('ready without a handshake event')),
    );
    client.once('error', reject);
    client.connect({ readyTimeout: 20_000, ...config });
  });
}

/** Runs one command, optionally feeding `stdin`, and collects its output and exit code. */
export function exec(client: ssh2.Client, command: string, stdin?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      channel.on('exit', (exitCode: number | null) => (code = exitCode));
      channel.on('close', () => resolve({ code, stdout, stderr }));
      channel.end(stdin);
    });
  });
}
