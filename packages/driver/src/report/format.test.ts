import { describe, expect, it } from 'vitest';
import { reportTable } from './format.js';
import type { GroupSummary } from './summarize.js';

const group = (project: string, environment: string): GroupSummary => ({
  project,
  environment,
  jobs: 1,
  failed: 0,
  costUsd: 0.01,
  unpricedJobs: 0,
  vcpuSeconds: 60,
});

describe('reportTable', () => {
  it('shows control and format characters in names as ?, so a name cannot add rows or send terminal escapes', () => {
    const forged = group('evil\nweb/shop  production  999\u001b[2J', 'prod\u202Eoff\u0085x\u2028y\u0000');
    const table = reportTable([forged, group('web/shop', 'staging')], {}, 0);
    const lines = table.split('\n');
    expect(lines).toHaveLength(6); // heading, column names, 2 rows, total, final newline
    expect(lines[2]).toMatch(/^evil\?web\/shop {2}production {2}999\?\[2J {2}prod\?off\?x\?y\? +1 +0 +0\.0100 +- +-$/);
    const unprintable = [...table].filter((c) => c !== '\n' && /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(c));
    expect(unprintable).toEqual([]);
  });
});
