import { describe, expect, it } from 'vitest';
import { parseDemoArgs, UsageError } from './args.js';

describe('parseDemoArgs', () => {
  it('defaults to a 5-second seed job without build output', () => {
    expect(parseDemoArgs([])).toEqual({ kind: 'run', seconds: 5, verbose: false });
  });

  it('reads --seconds and --verbose', () => {
    expect(parseDemoArgs(['--seconds', '30', '--verbose'])).toEqual({ kind: 'run', seconds: 30, verbose: true });
  });

  it('answers --help and -h', () => {
    expect(parseDemoArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseDemoArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--seconds', '0'], /--seconds must be a whole number from 1 to 300, found "0"/],
    [['--seconds', '2.5'], /found "2.5"/],
    [['--seconds', '301'], /found "301"/],
    [['--colour'], /Unknown option '--colour'.*--help/],
    [['run'], /positional argument.*--help/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDemoArgs(argv)).toThrow(UsageError);
    expect(() => parseDemoArgs(argv)).toThrow(message);
  });
});
