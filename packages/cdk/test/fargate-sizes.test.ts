import { describe, expect, test } from 'vitest';
import { FARGATE_MEMORY_BY_CPU } from '../src/validation/fargate-sizes';

// jsii cannot depend on the ESM config package, so this package keeps a copy of its Fargate size table.
describe('the Fargate task sizes', () => {
  test('are the config package’s, CPU by CPU and memory by memory', async () => {
    // A dynamic import: this CommonJS package cannot require the ESM one.
    const { FARGATE_TASK_SIZES } = await import('@gitlab-fargate/config');
    const table = (sizes: ReadonlyMap<number, readonly number[]>) =>
      [...sizes].map(([cpu, memories]) => ({ cpu, memories: [...memories] }));
    expect(table(FARGATE_MEMORY_BY_CPU)).toEqual(table(FARGATE_TASK_SIZES));
    expect(FARGATE_MEMORY_BY_CPU.size).toBe(7);
  });
});
