import { describe, expect, it } from 'vitest';
import { CronSyntaxError, cronMatches, isKnownTimeZone, parseCron, zonedMinute } from './cron.js';

const at = (iso: string, zone = 'UTC') => zonedMinute(Date.parse(iso), zone);
const matches = (expr: string, iso: string, zone = 'UTC') => cronMatches(parseCron(expr), at(iso, zone));

describe('parseCron', () => {
  it('reads values, ranges, steps, lists and names', () => {
    const s = parseCron('*/15 8-17 1,15 jan-MAR mon-fri');
    expect([...s.minutes]).toEqual([0, 15, 30, 45]);
    expect([...s.hours]).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect([...s.daysOfMonth]).toEqual([1, 15]);
    expect([...s.months]).toEqual([1, 2, 3]);
    expect([...s.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('5/20 * * * *').minutes]).toEqual([5, 25, 45]);
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]);
    expect([...parseCron('0 0 ? * 5-7').daysOfWeek].sort()).toEqual([0, 5, 6]);
  });

  it.each([
    ['* * * *', /has 4 fields; a period has five/],
    ['0 * * * * *', /has 6 fields.*no seconds or year field/],
    ['@hourly', /@ macros are not supported/],
    ['60 * * * *', /minute field's "60" is outside 0-59/],
    ['* 24 * * *', /hour field's "24" is outside 0-23/],
    ['* * 0 * *', /day of month field's "0" is outside 1-31/],
    ['* * * 13 *', /month field's "13" is outside 1-12/],
    ['* * * * 8', /day of week field's "8" is outside 0-7/],
    ['* 17-8 * * *', /runs backwards \(17 > 8\)/],
    ['*/0 * * * *', /step below 1/],
    ['* * L * *', /"L", which is not a number.*L, W and # are not supported/],
    ['* * * * mon#2', /not a number or a name \(sun…sat\)/],
    ['* * * foo *', /"foo", which is not a number or a name \(jan…dec\)/],
    ['1,,2 * * * *', /is not a value/],
  ])('refuses %j', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(CronSyntaxError);
    expect(() => parseCron(expr)).toThrow(message);
  });
});

describe('cronMatches', () => {
  it('matches the whole minute its fields name', () => {
    expect(matches('30 9 * * *', '2026-12-03T09:30:00Z')).toBe(true);
    expect(matches('30 9 * * *', '2026-12-03T09:30:59.999Z')).toBe(true);
    expect(matches('30 9 * * *', '2026-12-03T09:31:00Z')).toBe(false);
  });

  it('reads business hours in the given time zone, across daylight saving time', () => {
    // 2026-12-03 is a Thursday; Berlin is UTC+1 in winter, UTC+2 in summer.
    expect(matches('* 8-17 * * mon-fri', '2026-12-03T07:00:00Z', 'Europe/Berlin')).toBe(true);
    expect(matches('* 8-17 * * mon-fri', '2026-12-03T06:59:00Z', 'Europe/Berlin')).toBe(false);
    expect(matches('* 8-17 * * mon-fri', '2026-07-02T06:00:00Z', 'Europe/Berlin')).toBe(true);
    expect(matches('* 8-17 * * mon-fri', '2026-07-02T05:59:00Z', 'Europe/Berlin')).toBe(false);
    // Friday 23:30 in New York is already Saturday in UTC.
    expect(matches('* * * * fri', '2026-12-05T04:30:00Z', 'America/New_York')).toBe(true);
    expect(matches('* * * * fri', '2026-12-05T04:30:00Z', 'UTC')).toBe(false);
  });

  it('matches either day field when both are restricted, only the restricted one otherwise', () => {
    // 2026-12-01 is a Tuesday, 2026-12-03 a Thursday.
    expect(matches('0 0 1 * thu', '2026-12-01T00:00:00Z')).toBe(true);
    expect(matches('0 0 1 * thu', '2026-12-03T00:00:00Z')).toBe(true);
    expect(matches('0 0 1 * thu', '2026-12-02T00:00:00Z')).toBe(false);
    expect(matches('0 0 1 * *', '2026-12-03T00:00:00Z')).toBe(false);
    expect(matches('0 0 * * thu', '2026-12-01T00:00:00Z')).toBe(false);
    expect(matches('0 0 * * 0', '2026-12-06T00:00:00Z')).toBe(true);
    expect(matches('0 0 * * 7', '2026-12-06T00:00:00Z')).toBe(true);
  });
});

describe('time zones', () => {
  it('knows IANA names and refuses others', () => {
    expect(isKnownTimeZone('Europe/Berlin')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isKnownTimeZone('')).toBe(false);
  });

  it('gives the wall-clock fields of an instant', () => {
    expect(at('2026-12-03T23:45:00Z', 'Asia/Tokyo')).toEqual({ minute: 45, hour: 8, dayOfMonth: 4, month: 12, dayOfWeek: 5 });
    expect(at('2026-12-03T00:05:00Z', 'UTC')).toEqual({ minute: 5, hour: 0, dayOfMonth: 3, month: 12, dayOfWeek: 4 });
  });
});
