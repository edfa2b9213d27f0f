import { describe, expect, it } from 'vitest';
import { max, median, percentile, sum } from './stats.js';

describe('stats', () => {
  it('takes the median of odd and even counts, ignoring order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('interpolates percentiles between closest ranks', () => {
    const values = Array.from({ length: 21 }, (_, i) => i * 10);
    expect(percentile(values, 95)).toBe(190);
    expect(percentile(values, 0)).toBe(0);
    expect(percentile(values, 100)).toBe(200);
    expect(percentile([1, 2], 95)).toBeCloseTo(1.95);
  });

  it('gives NaN for no values and skips non-finite ones', () => {
    expect(median([])).toBeNaN();
    expect(max([Number.NaN, 2, 7])).toBe(7);
    expect(sum([1, 2, 3.5])).toBe(6.5);
  });
});
