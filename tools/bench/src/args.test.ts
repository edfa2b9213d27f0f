import { describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from './args.js';

const out = (smoke: boolean) => (smoke ? '/r/smoke.json' : '/r/latest.json');

describe('parseCliArgs', () => {
  it('runs every suite into results/latest.json by default', () => {
    expect(parseCliArgs([], out)).toEqual({ help: false, smoke: false, out: '/r/latest.json' });
  });

  it('keeps smoke results apart from the committed full results', () => {
    expect(parseCliArgs(['--smoke'], out).out).toBe('/r/smoke.json');
    expect(parseCliArgs(['--smoke', '--out', '/tmp/x.json'], out).out).toBe('/tmp/x.json');
  });

  it('selects suites by name', () => {
    expect(parseCliArgs(['--only', 'startup, concurrency'], out).only).toEqual(['startup', 'concurrency']);
  });

  it('refuses unknown suites, flags and empty paths with a message naming them', () => {
    expect(() => parseCliArgs(['--only', 'startup,warp'], out)).toThrow(/unknown suite "warp"; choose from startup, job-overhead/);
    expect(() => parseCliArgs(['--only', ','], out)).toThrow(UsageError);
    expect(() => parseCliArgs(['--fast'], out)).toThrow(UsageError);
    expect(() => parseCliArgs(['--markdown', ' '], out)).toThrow(/--markdown needs a path/);
  });

  it('reports on an earlier run with --from, drawing charts with --charts', () => {
    expect(parseCliArgs(['--from', '/r/latest.json', '--charts', 'docs/bench'], out)).toMatchObject({ from: '/r/latest.json', charts: 'docs/bench' });
    expect(() => parseCliArgs(['--from', '/r/latest.json', '--smoke'], out)).toThrow(/--from reports on an earlier run: it takes only --markdown and --charts/);
    expect(() => parseCliArgs(['--from', '/r/latest.json', '--out', '/tmp/x.json'], out)).toThrow(UsageError);
    expect(() => parseCliArgs(['--charts', ''], out)).toThrow(/--charts needs a path/);
  });
});
