import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameType, encodeFrame, frameReader } from './protocol.js';

describe('multiplexer framing', () => {
  it('gives back every frame, in order, however the bytes are split on the way', () => {
    const frame = fc.record({
      type: fc.constantFrom(FrameType.Request, FrameType.Stdin, FrameType.StdinEnd, FrameType.Stdout, FrameType.Result),
      payload: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    });
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (frames, cuts) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
        const received: { type: FrameType; payload: Buffer }[] = [];
        const read = frameReader((type, payload) => received.push({ type, payload: Buffer.from(payload) }));
        for (let offset = 0, i = 0; offset < wire.length; i++) {
          const size = cuts[i % cuts.length]!;
          read(wire.subarray(offset, offset + size));
          offset += size;
        }
        expect(received).toEqual(frames);
      }),
    );
  });

  it('refuses a frame larger than any peer of ours sends', () => {
    const header = Buffer.from([FrameType.Stdout, 0x7f, 0xff, 0xff, 0xff]);
    expect(() => frameReader(() => {})(header)).toThrow(/frame of 2147483647 bytes is larger than 16777216/);
  });

  it('numbers the frames as the native client does', () => {
    const source = readFileSync(new URL('../../../native/run-client.c', import.meta.url), 'utf8');
    const names: Record<string, number> = {
      REQUEST: FrameType.Request, STDIN: FrameType.Stdin, STDIN_END: FrameType.StdinEnd, CANCEL: FrameType.Cancel,
      CLEANUP: FrameType.Cleanup, STDOUT: FrameType.Stdout, STDERR: FrameType.Stderr, RESULT: FrameType.Result, ERROR: FrameType.Error,
      UNAVAILABLE: FrameType.Unavailable, STARTED: FrameType.Started };
    for (const [name, value] of Object.entries(names)) expect(source).toContain(`FRAME_${name} = ${value},`);
  });
});
