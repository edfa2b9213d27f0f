import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { firstLine } from './handshake.js';

describe('firstLine', () => {
  it('gives the first line, however it is split, and ignores the rest', async () => {
    const input = new PassThrough();
    const line = firstLine(input);
    input.write('listen');
    input.end('ing 4242\nconnect\n');
    expect(await line).toBe('listening 4242');
  });

  it('gives undefined when the stream ends without a whole line', async () => {
    const input = new PassThrough();
    const line = firstLine(input);
    input.end();
    expect(await line).toBeUndefined();
  });
});
