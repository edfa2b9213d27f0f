import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from './duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['3600', 3600],
    [45, 45],
    ['90s', 90],
    ['10m', 600],
    ['1h 30m', 5400],
    ['2 hours', 7200],
    ['1h, 5 minutes', 3900],
    ['1.5h', 5400],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', 'soon', '10 parsecs', '0', '-5', '5m later', 0])('rejects %j', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});
