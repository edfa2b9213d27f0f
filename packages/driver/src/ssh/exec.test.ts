import { Duplex, PassThrough } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { execOnChannel } from './exec.js';

/**
 * An exec channel as ssh2 hands it out, without a connection: stdin written to it is dropped, `stdout` is what the
 * test pushes, `stderr` a stream of its own. SSH signal requests go through the protocol object, as `sendSignal` sends
 * them (ssh2's `channel.signal()` drops them after our EOF), and are recorded.
 */
class FakeChannel extends Duplex {
  readonly stderr = new PassThrough();
  readonly signalRequests: string[] = [];
  readonly outgoing = { id: 0, state: 'open' };
  readonly _client = { _protocol: { signal: (_id: number, name: string): void => void this.signalRequests.push(name) } };

  override _read(): void {}

  override _write(_chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    done();
  }

  signal(name: string): void {
    this.signalRequests.push(name);
  }

  close(): void {
    this.outgoing.state = 'closed';
  }

  /** The remote command exited: the exit status, then stdout's end and the channel's close, as ssh2 emits them. */
  exitWith(code: number): void {
    this.emit('exit', code);
    this.push(null);
    this.once('end', () => {
      this.outgoing.state = 'closed';
      this.emit('close');
    });
  }
}

/** Everything written to a stream, as text. */
function collected(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

describe('execOnChannel: cancelling a command', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  it('sends no SIGKILL to a command that exited within its grace period while its stderr was still draining', async () => {
    const channel = new FakeChannel();
    const stderr = new PassThrough();
    const stderrText = collected(stderr);
    const sideChannel: string[] = [];
    const cancel = new AbortController();
    let abandoned = false;
    const result = execOnChannel(
      channel as unknown as ClientChannel,
      { stdin: '', stdout: new PassThrough(), stderr, cancel: cancel.signal, graceMs: 300 },
      () => (abandoned = true),
      (signal) => sideChannel.push(signal),
    );
    cancel.abort();
    channel.stderr.write('terminating\n');
    // It exits from SIGTERM 200 ms into its 300 ms grace period; its stderr stays open past the grace period's end
    // and past the 1 s a SIGKILL gets before its channel is given up on.
    await vi.advanceTimersByTimeAsync(200);
    channel.exitWith(143);
    await vi.advanceTimersByTimeAsync(1_300);
    channel.stderr.end('the last words\n');

    expect(await result).toEqual({ exitCode: 143, signal: undefined, cancelled: true, lost: false });
    expect(channel.signalRequests).toEqual(['TERM']);
    expect(sideChannel).toEqual(['TERM']);
    expect(stderrText()).toBe('terminating\nthe last words\n');
    expect(abandoned).toBe(false);
  });

  it('does not signal a command that already exited when the cancel comes while its stderr drains', async () => {
    const channel = new FakeChannel();
    const stderr = new PassThrough();
    const sideChannel: string[] = [];
    const cancel = new AbortController();
    const result = execOnChannel(
      channel as unknown as ClientChannel,
      { stdin: '', stdout: new PassThrough(), stderr, cancel: cancel.signal, graceMs: 300 },
      () => {},
      (signal) => sideChannel.push(signal),
    );
    channel.exitWith(0);
    await new Promise<void>((resolve) => channel.once('close', resolve));
    cancel.abort();
    await vi.advanceTimersByTimeAsync(1_500);
    channel.stderr.end();

    expect(await result).toMatchObject({ exitCode: 0, cancelled: true, lost: false });
    expect(channel.signalRequests).toEqual([]);
    expect(sideChannel).toEqual([]);
  });
});
