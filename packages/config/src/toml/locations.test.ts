import { describe, expect, it } from 'vitest';
import { scanKeyLocations } from './locations.js';

describe('scanKeyLocations', () => {
  const text = [
    'Top = 1 # comment',
    '[Fargate]',
    '  Cluster = "a" # "x = 1"',
    '  Subnets = [',
    '    "subnet-1",',
    '    "subnet-2" ]',
    '  a.b.c = """',
    'x = 1',
    '"""',
    '  Strategy = [{ Name = "S", Weight = 1 }, { Name = "F" }]',
    '[[runners]]',
    'name = "one"',
    '[runners.custom]',
    'run_exec = "x"',
    '[[runners]]',
    "'quoted key' = 2",
    '[ "Spaced" . inner ]',
  ].join('\n');
  const locations = scanKeyLocations(text);

  it.each([
    [['Top'], 1, 1],
    [['Fargate'], 2, 1],
    [['Fargate', 'Cluster'], 3, 3],
    [['Fargate', 'Subnets'], 4, 3],
    [['Fargate', 'Subnets', 0], 5, 5],
    [['Fargate', 'Subnets', 1], 6, 5],
    [['Fargate', 'a', 'b', 'c'], 7, 3],
    [['Fargate', 'Strategy', 0], 10, 15],
    [['Fargate', 'Strategy', 0, 'Weight'], 10, 29],
    [['Fargate', 'Strategy', 1, 'Name'], 10, 45],
    [['runners', 0], 11, 1],
    [['runners', 0, 'name'], 12, 1],
    [['runners', 0, 'custom', 'run_exec'], 14, 1],
    [['runners', 1], 15, 1],
    [['runners', 1, 'quoted key'], 16, 1],
    [['Spaced', 'inner'], 17, 1],
  ] as const)('finds %j at %i:%i', (path, line, column) => {
    expect(locations.locate(path)).toEqual({ line, column });
  });

  it('does not mistake the inside of a multi-line string for a key', () => {
    expect(locations.locate(['Fargate', 'x'])).toEqual({ line: 2, column: 1 });
  });

  it('matches keys case-insensitively when the exact spelling is not there', () => {
    expect(locations.locate(['FARGATE', 'cluster'])).toEqual({ line: 3, column: 3 });
  });

  it('points a missing key at its nearest table, and a missing table at the document start', () => {
    expect(locations.locate(['Fargate', 'Region'])).toEqual({ line: 2, column: 1 });
    expect(locations.locate(['SSH', 'Port'])).toEqual({ line: 1, column: 1 });
  });
});
