import { describe, expect, it } from 'vitest';
import { type StartWatch, startPollDelayMs } from './poll-schedule.js';

const SECOND = 1_000;

/**
 * The DescribeTasks calls of a start that is ready after `readyMs`, whose private address appears after `addressMs`:
 * one poll after each pause, plus the call that ends the wait (the poll that sees RUNNING, or prepare's last look
 * once SSH answered). `publicIp`: the poller alone sees readiness.
 */
function describeCalls(readyMs: number, addressMs: number, taskPollMs: number, publicIp = false): number {
  let elapsedMs = 0;
  let calls = 0;
  let probing = false;
  for (;;) {
    const watch: StartWatch = probing ? 'stop' : publicIp ? 'running' : 'address';
    elapsedMs += startPollDelayMs({ elapsedMs, taskPollMs, watch });
    calls += 1;
    if (elapsedMs >= readyMs) return calls;
    probing = !publicIp && elapsedMs >= addressMs;
  }
}

/** The poll that first sees a stop at `stopMs`: how long after the stop it comes, with the address known at `addressMs`. */
function stopSeenAfterMs(stopMs: number, addressMs: number, taskPollMs: number): number {
  let elapsedMs = 0;
  while (elapsedMs < stopMs) {
    const watch: StartWatch = elapsedMs > 0 && elapsedMs >= addressMs ? 'stop' : 'address';
    elapsedMs += startPollDelayMs({ elapsedMs, taskPollMs, watch });
  }
  return elapsedMs - stopMs;
}

describe('startPollDelayMs', () => {
  it('starts at TaskPollInterval and grows to half the time waited', () => {
    expect(startPollDelayMs({ elapsedMs: 0, taskPollMs: 2 * SECOND, watch: 'address' })).toBe(2 * SECOND);
    expect(startPollDelayMs({ elapsedMs: 3 * SECOND, taskPollMs: 2 * SECOND, watch: 'address' })).toBe(2 * SECOND);
    expect(startPollDelayMs({ elapsedMs: 6 * SECOND, taskPollMs: 2 * SECOND, watch: 'address' })).toBe(3 * SECOND);
    expect(startPollDelayMs({ elapsedMs: 14 * SECOND, taskPollMs: 2 * SECOND, watch: 'stop' })).toBe(7 * SECOND);
  });

  it('caps the pause at 2.5× TaskPollInterval (≤ 5 s) while waiting for the address, 5× (≤ 10 s) once only a stop matters', () => {
    const late = 10 * 60 * SECOND;
    expect(startPollDelayMs({ elapsedMs: late, taskPollMs: 2 * SECOND, watch: 'address' })).toBe(5 * SECOND);
    expect(startPollDelayMs({ elapsedMs: late, taskPollMs: 2 * SECOND, watch: 'stop' })).toBe(10 * SECOND);
    expect(startPollDelayMs({ elapsedMs: late, taskPollMs: 500, watch: 'address' })).toBe(1_250);
    expect(startPollDelayMs({ elapsedMs: late, taskPollMs: 500, watch: 'stop' })).toBe(2_500);
    expect(startPollDelayMs({ elapsedMs: late, taskPollMs: 4 * SECOND, watch: 'stop' })).toBe(10 * SECOND);
  });

  it('never pauses less than TaskPollInterval, even when that is over the cap', () => {
    for (const watch of ['address', 'stop'] as const) {
      expect(startPollDelayMs({ elapsedMs: 60 * SECOND, taskPollMs: 20 * SECOND, watch })).toBe(20 * SECOND);
    }
  });

  it('keeps TaskPollInterval while the poller alone sees readiness (UsePublicIP)', () => {
    for (const elapsedMs of [0, 10 * SECOND, 60 * SECOND]) {
      expect(startPollDelayMs({ elapsedMs, taskPollMs: 2 * SECOND, watch: 'running' })).toBe(2 * SECOND);
    }
  });

  it('never shortens as the wait goes on, and stays between TaskPollInterval and the cap', () => {
    for (const watch of ['address', 'stop'] as const) {
      let previous = 0;
      for (let elapsedMs = 0; elapsedMs <= 120 * SECOND; elapsedMs += 250) {
        const pause = startPollDelayMs({ elapsedMs, taskPollMs: 2 * SECOND, watch });
        expect(pause).toBeGreaterThanOrEqual(Math.max(previous, 2 * SECOND));
        expect(pause).toBeLessThanOrEqual(watch === 'stop' ? 10 * SECOND : 5 * SECOND);
        previous = pause;
      }
    }
  });

  it('makes the calls of a Fargate start grow with the log of its length up to the cap, then one per 10 s', () => {
    // The address appears once the ENI is attached (PENDING), about 10 s into a Fargate start.
    const calls = (readySeconds: number): number => describeCalls(readySeconds * SECOND, 10 * SECOND, 2 * SECOND);
    // A fixed TaskPollInterval would cost one call per 2 s: 10, 23 and 35 calls.
    expect(describeCalls(70 * SECOND, 10 * SECOND, 2 * SECOND, true)).toBe(35);
    expect(calls(70)).toBeLessThanOrEqual(12);
    expect(calls(70) - calls(20)).toBeLessThanOrEqual(50 / 10 + 1);
    for (let seconds = 1; seconds <= 120; seconds += 1) expect(calls(seconds + 1)).toBeGreaterThanOrEqual(calls(seconds));
  });

  it('sees a stop within half the time waited, at most 5 s before the address and 10 s after it', () => {
    for (let stopMs = 100; stopMs <= 180 * SECOND; stopMs += 100) {
      const lag = stopSeenAfterMs(stopMs, 10 * SECOND, 2 * SECOND);
      expect(lag).toBeLessThanOrEqual(Math.max(2 * SECOND, stopMs / 2));
      expect(lag).toBeLessThanOrEqual(stopMs < 10 * SECOND ? 5 * SECOND : 10 * SECOND);
    }
  });
});
