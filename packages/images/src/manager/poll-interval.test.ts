import { describe, expect, it } from 'vitest';
import { MisconfiguredError } from './exit-codes.js';
import { DEFAULT_POLL_SECONDS, MAX_BACKOFF_SECONDS, nextDelaySeconds, pollSeconds } from './poll-interval.js';

describe('pollSeconds', () => {
  it('defaults to 30 and takes whole seconds from 1 to a day', () => {
    expect(DEFAULT_POLL_SECONDS).toBe(30);
    expect(pollSeconds({})).toBe(30);
    expect(pollSeconds({ GITLAB_FARGATE_SETTINGS_POLL_SECONDS: '' })).toBe(30);
    expect(pollSeconds({ GITLAB_FARGATE_SETTINGS_POLL_SECONDS: '1' })).toBe(1);
    expect(pollSeconds({ GITLAB_FARGATE_SETTINGS_POLL_SECONDS: '86400' })).toBe(86_400);
  });

  it.each(['0', '-5', '1.5', '30s', ' 30', '86401', '1e3'])('refuses %j, saying what to give', (text) => {
    const read = () => pollSeconds({ GITLAB_FARGATE_SETTINGS_POLL_SECONDS: text });
    expect(read).toThrow(MisconfiguredError);
    expect(read).toThrow(`GITLAB_FARGATE_SETTINGS_POLL_SECONDS is ${JSON.stringify(text)}: give a whole number of seconds from 1 to 86400`);
  });
});

describe('nextDelaySeconds', () => {
  it('waits the poll interval, then twice as long after each further failure, up to five minutes', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((failures) => nextDelaySeconds(30, failures));
    expect(delays).toEqual([30, 30, 60, 120, 240, 300, 300, 300, 300]);
    expect(MAX_BACKOFF_SECONDS).toBe(300);
  });

  it('never waits less than the poll interval, even when that is longer than five minutes', () => {
    expect(nextDelaySeconds(600, 5)).toBe(600);
  });
});
