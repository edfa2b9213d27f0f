import type { JobResult } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { failingJob, seedArticleJob } from './jobs.js';
import { meetsExpectation, summaryLine, summaryTable } from './summary.js';

const timings = [
  { phase: 'config', seconds: 0.2, exitCode: 0 },
  { phase: 'prepare', seconds: 9.9, exitCode: 2 },
  { phase: 'prepare', seconds: 1.64, exitCode: 0 },
  { phase: 'build_script', seconds: 5.5, exitCode: 0 },
];
const result = (over: Partial<JobResult>): JobResult => ({ outcome: 'success', jobId: 1, prepareAttempts: 1, timings, seconds: 11.84, ...over });

describe('meetsExpectation', () => {
  it('wants the seed job to succeed and the failing job to fail with exit code 3 exactly', () => {
    expect(meetsExpectation({ job: seedArticleJob(5), result: result({}) })).toBe(true);
    expect(meetsExpectation({ job: seedArticleJob(5), result: result({ outcome: 'system_failure', reason: 'x' }) })).toBe(false);
    expect(meetsExpectation({ job: failingJob(), result: result({ outcome: 'script_failure', exitCode: 3 }) })).toBe(true);
    expect(meetsExpectation({ job: failingJob(), result: result({ outcome: 'script_failure', exitCode: 1 }) })).toBe(false);
    expect(meetsExpectation({ job: failingJob(), result: result({}) })).toBe(false);
  });
});

describe('summaryTable', () => {
  it('shows outcome, exit code, the prepare attempt that counted and the total, in aligned columns', () => {
    const table = summaryTable([
      { job: seedArticleJob(5), result: result({}) },
      { job: failingJob(), result: result({ outcome: 'script_failure', exitCode: 3, seconds: 9 }) },
    ]);
    expect(table.split('\n')).toEqual([
      'Job           Outcome         Exit code  Prepare  Total   As expected',
      '------------  --------------  ---------  -------  ------  -----------',
      'test-dev      success         0          1.6 s    11.8 s  yes',
      'failing-test  script_failure  3          1.6 s    9.0 s   yes',
    ]);
  });

  it('marks a job that never got to prepare and one that ended wrongly', () => {
    const table = summaryTable([{ job: failingJob(), result: result({ outcome: 'system_failure', reason: 'no Docker', timings: [] }) }]);
    expect(table.split('\n')[2]).toBe('failing-test  system_failure  -          -        11.8 s  NO');
  });
});

describe('summaryLine', () => {
  it('says the demo passed and what each job did', () => {
    const line = summaryLine([
      { job: seedArticleJob(5), result: result({}) },
      { job: failingJob(), result: result({ outcome: 'script_failure', exitCode: 3 }) },
    ], 21.43);
    expect(line).toBe('Demo passed in 21.4 s: test-dev succeeded, failing-test failed with exit code 3 as expected; everything it started was removed.');
  });

  it('says what was expected and what came instead', () => {
    const line = summaryLine([{ job: seedArticleJob(5), result: result({ outcome: 'system_failure', reason: 'prepare_exec: exit status 2' }) }], 3);
    expect(line).toBe('Demo FAILED after 3.0 s: test-dev expected success, got system_failure: prepare_exec: exit status 2.');
  });
});
