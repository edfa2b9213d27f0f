import { describe, expect, it } from 'vitest';
import { ReliabilityMatrix } from './matrix.js';
import { describeResidue, isEmpty, noResidue } from './residue.js';

describe('ReliabilityMatrix', () => {
  it('renders its rows as an aligned Markdown table under its title', () => {
    const matrix = new ReliabilityMatrix('Kill points');
    matrix.add({ scenario: 'SIGKILL during RunTask', outcome: 'stage killed (SIGKILL)', cleanup: 'ok', leftAfterCleanup: '1 task (PENDING)', gc: '1', leftAtEnd: 'none' });
    matrix.add({ scenario: 'SIGTERM mid-script', outcome: 'stage exit 2', cleanup: 'ok', leftAfterCleanup: 'none', gc: '0', leftAtEnd: 'none' });
    expect(matrix.render().split('\n')).toEqual([
      'Kill points',
      '',
      '| Fault / kill point     | Outcome                | Cleanup | Left after cleanup | gc stopped | Left at end |',
      '|------------------------|------------------------|---------|--------------------|------------|-------------|',
      '| SIGKILL during RunTask | stage killed (SIGKILL) | ok      | 1 task (PENDING)   | 1          | none        |',
      '| SIGTERM mid-script     | stage exit 2           | ok      | none               | 0          | none        |',
    ]);
  });
});

describe('describeResidue', () => {
  it('says none for an empty look and counts each kind of leftover otherwise', () => {
    expect(isEmpty(noResidue)).toBe(true);
    expect(describeResidue(noResidue)).toBe('none');
    const residue = { tasks: ['0a1b2c3d:RUNNING'], containers: ['f00'], stateFiles: ['t1-abc.json'], privateKeys: ['/m/t1-abc.json'], processes: ['4242'], volumes: ['v1', 'v2'] };
    expect(isEmpty(residue)).toBe(false);
    expect(describeResidue(residue)).toBe('1 task (RUNNING), 1 container, 1 state file, 1 private key, 1 driver process, 2 volume');
    expect(isEmpty({ ...noResidue, volumes: ['left-by-a-task'] })).toBe(false);
  });
});
