import { describe, expect, it } from 'vitest';
import { SystemFailure } from '../errors.js';
import { MAX_JOB_TIMEOUT_SECONDS, STATE_GRACE_SECONDS, deadlineTagValue, jobDeadline, parseDeadlineTag } from './deadline.js';

describe('job deadline', () => {
  it('is start + job timeout + grace, rounded up to the second, and unknown without a timeout', () => {
    expect(STATE_GRACE_SECONDS).toBe(3600);
    expect(jobDeadline(Date.UTC(2026, 11, 3, 2, 0, 0), 3600)?.toISOString()).toBe('2026-12-03T04:00:00.000Z');
    expect(jobDeadline(Date.UTC(2026, 11, 3, 2, 0, 0, 1), 3600)?.toISOString()).toBe('2026-12-03T04:00:01.000Z');
    expect(jobDeadline(Date.UTC(2026, 11, 3, 2, 0, 0), undefined)).toBeUndefined();
  });

  it("counts a timeout beyond GitLab's one-month maximum as that, and refuses a deadline no Date can hold", () => {
    const start = Date.UTC(2026, 11, 3, 2, 0, 0);
    expect(MAX_JOB_TIMEOUT_SECONDS).toBe(2_629_746); // Rails' 1.month
    for (const timeout of [250_000_000_000, 9_000_000_000_000_000]) {
      expect(deadlineTagValue(jobDeadline(start, timeout)!), String(timeout)).toBe('2027-01-02T13:29:06Z');
    }
    expect(() => jobDeadline(8.64e15, 3600)).toThrow(SystemFailure);
    expect(() => jobDeadline(8.64e15, 3600)).toThrow(/the job's deadline .* is not a date JavaScript can hold: check the machine's clock and the job's timeout/);
  });

  it('is written as an ISO-8601 UTC tag value to the second, and read back', () => {
    const deadline = new Date(Date.UTC(2026, 11, 3, 5, 0, 0));
    expect(deadlineTagValue(deadline)).toBe('2026-12-03T05:00:00Z');
    expect(deadlineTagValue(deadline)).toMatch(/^[\p{L}\p{N} _.:/=+\-@]+$/u); // ECS tag value characters
    expect(parseDeadlineTag('2026-12-03T05:00:00Z')).toBe(deadline.getTime());
  });

  it('reads only what it writes: anything else is no deadline', () => {
    for (const value of [undefined, '', 'soon', '2026-12-03', '2026-12-03T05:00:00', '2026-12-03T05:00:00.000Z', '2026-12-03T05:00:00+01:00', '2026-02-30T05:00:00Z', '2026-13-01T05:00:00Z', ' 2026-12-03T05:00:00Z']) {
      expect(parseDeadlineTag(value), String(value)).toBeUndefined();
    }
  });
});
