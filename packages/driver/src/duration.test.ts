import { describe, expect, it } from 'vitest';
import { secondsToMs } from './duration.js';

describe('secondsToMs', () => {
  it('turns the TOML seconds, fractions included, into milliseconds', () => {
    expect(secondsToMs(0.1)).toBe(100);
    expect(secondsToMs(1.5)).toBe(1500);
    expect(secondsToMs(600)).toBe(600_000);
  });
});
