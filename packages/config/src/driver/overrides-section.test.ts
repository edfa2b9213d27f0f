import { describe, expect, it } from 'vitest';
import { issuesOf } from '../test-support.js';
import { parseDriverConfig } from './parse.js';

const BASE = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci:1"\n';
const parse = (text: string) => () => parseDriverConfig(text, { file: 'f.toml' });

// The [Overrides] allow-lists decide which task definition, and so which IAM role, a job may pick: each entry
// must be a whole name or pattern, written once.
describe('parseDriverConfig: [Overrides]', () => {
  it('refuses an allow-list entry that only contains a valid name (the pattern is anchored at both ends)', () => {
    expect(issuesOf(parse(`${BASE}[Overrides]\nTaskDefinitions = ["ci job", "ci-*", "bad!"]\n`))).toEqual([
      'f.toml:6:20: error: Overrides.TaskDefinitions[0]: expected a task definition family, family:revision, ARN or * pattern, found "ci job"',
      'f.toml:6:38: error: Overrides.TaskDefinitions[2]: expected a task definition family, family:revision, ARN or * pattern, found "bad!"',
    ]);
  });

  it('refuses an allow-list entry written twice', () => {
    expect(issuesOf(parse(`${BASE}[Overrides]\nTaskDefinitions = ["ci-*", "ci-*"]\nPlatformVersions = ["1.4.0", "1.4.0"]\n`))).toEqual([
      'f.toml:6:28: error: Overrides.TaskDefinitions[1]: expected each value once, found a repeat of "ci-*"; remove the duplicate',
      'f.toml:7:30: error: Overrides.PlatformVersions[1]: expected each value once, found a repeat of "1.4.0"; remove the duplicate',
    ]);
  });

  it('says what a platform version and the section itself must look like', () => {
    expect(issuesOf(parse(`${BASE}[Overrides]\nPlatformVersions = ["1.4"]\n`))).toEqual([
      'f.toml:6:21: error: Overrides.PlatformVersions[0]: expected "LATEST" or a version like "1.4.0", found "1.4"',
    ]);
    expect(issuesOf(parse(`Overrides = 3\n${BASE}`))).toEqual(['f.toml:1:1: error: Overrides: expected an [Overrides] table, found 3 (an integer)']);
  });
});
