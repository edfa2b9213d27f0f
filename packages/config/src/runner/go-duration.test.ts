import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDurationSeconds } from './go-duration.js';

describe('parseGoDurationSeconds', () => {
  it.each([
    ['0', 0], ['-0', 0], ['90s', 90], ['5m', 300], ['1h30m', 5400], ['1.5h', 5400], ['.5s', 0.5], ['5.s', 5],
    ['1m30s', 90], ['250ms', 0.25], ['3us', 3e-6], ['3µs', 3e-6], ['3μs', 3e-6], ['10ns', 1e-8], ['-5m', -300], ['+2s', 2],
  ])('reads %s as time.ParseDuration does: %d s', (text, seconds) => {
    expect(parseGoDurationSeconds(text)).toBeCloseTo(seconds, 12);
  });

  it.each(['', '300', '5', '1d', '5 m', 'm', '1h 30m', '.s', '5mm', 's5'])('refuses %j, as Go does', (text) => {
    expect(parseGoDurationSeconds(text)).toBeUndefined();
  });
});

describe('formatGoDuration', () => {
  it.each([[300, '300s'], [0.5, '0.5s'], [1e-9, '0.000000001s'], [5400, '5400s']])('writes %d s as %s, read back the same', (seconds, text) => {
    expect(formatGoDuration(seconds)).toBe(text);
    expect(parseGoDurationSeconds(text)).toBeCloseTo(seconds, 12);
  });
});
