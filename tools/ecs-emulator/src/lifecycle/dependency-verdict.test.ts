import { describe, expect, it } from 'vitest';
import { dependencyVerdict, type ContainerProgress } from './dependency-verdict.js';

const progress = (name: string, extra: Partial<ContainerProgress> = {}): ContainerProgress => ({ name, image: 'img', status: 'WAITING', health: 'UNKNOWN', ...extra });
const target = progress('build');

describe('dependencyVerdict (the ECS agent rules)', () => {
  it('meets START once the dependency started, even if it already stopped', () => {
    expect(dependencyVerdict('START', progress('init'), target, 0)).toEqual({ kind: 'wait' });
    expect(dependencyVerdict('START', progress('init', { status: 'STARTED', startedAtMs: 0 }), target, 0)).toEqual({ kind: 'met' });
    expect(dependencyVerdict('START', progress('init', { status: 'STOPPED', exitCode: 1 }), target, 0)).toEqual({ kind: 'met' });
  });

  it('meets COMPLETE on any exit and SUCCESS only on exit 0', () => {
    const failed = progress('init', { status: 'STOPPED', exitCode: 2 });
    expect(dependencyVerdict('COMPLETE', failed, target, 0)).toEqual({ kind: 'met' });
    expect(dependencyVerdict('SUCCESS', progress('init', { status: 'STOPPED', exitCode: 0 }), target, 0)).toEqual({ kind: 'met' });
    expect(dependencyVerdict('SUCCESS', failed, target, 0)).toMatchObject({ kind: 'never', reason: expect.stringMatching(/as dependency did not exit successfully\.$/) });
  });

  it('waits for a running dependency until its startTimeout, then gives up', () => {
    const running = progress('db', { status: 'STARTED', startedAtMs: 1000, startTimeoutSeconds: 2 });
    expect(dependencyVerdict('HEALTHY', running, target, 2000)).toEqual({ kind: 'wait', recheckAtMs: 3000 });
    expect(dependencyVerdict('HEALTHY', running, target, 3000)).toMatchObject({ kind: 'never', reason: expect.stringMatching(/has timed out\.$/) });
    expect(dependencyVerdict('HEALTHY', { ...running, health: 'HEALTHY' }, target, 3000)).toEqual({ kind: 'met' });
    expect(dependencyVerdict('START', running, target, 9000)).toEqual({ kind: 'met' });
  });

  it('never starts a target whose dependency will never start', () => {
    expect(dependencyVerdict('START', progress('init', { status: 'NEVER' }), target, 0)).toMatchObject({
      kind: 'never',
      reason: 'dependency graph: failed to resolve container ordering dependency [init(img) (STOPPED->RUNNING)] for target [build(img) (NONE->RUNNING)] because dependency will never start',
    });
  });
});
