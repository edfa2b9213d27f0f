import { describe, expect, it } from 'vitest';
import { EPHEMERAL_STORAGE_GIB, FARGATE_CPU_VALUES, fargateMemoryFor, isValidEphemeralStorage, isValidFargateSize } from './fargate-sizing.js';

describe('Fargate sizing', () => {
  it.each([
    [256, 512, true],
    [256, 2048, true],
    [256, 3072, false],
    [512, 4096, true],
    [1024, 2048, true],
    [1024, 8192, true],
    [1024, 9216, false],
    [2048, 16384, true],
    [4096, 30720, true],
    [4096, 4096, false],
    [8192, 16384, true],
    [8192, 17408, false], // 8 vCPU steps by 4 GiB
    [16384, 122880, true],
    [16384, 36864, false], // 16 vCPU steps by 8 GiB
    [300, 512, false],
  ])('cpu %i with memory %i is %s', (cpu, memory, valid) => {
    expect(isValidFargateSize(cpu, memory)).toBe(valid);
  });

  it('lists the documented CPU values and memory ranges', () => {
    expect(FARGATE_CPU_VALUES).toEqual([256, 512, 1024, 2048, 4096, 8192, 16384]);
    expect(fargateMemoryFor(512)).toEqual([1024, 2048, 3072, 4096]);
    expect(fargateMemoryFor(4096)).toHaveLength(23);
    expect(fargateMemoryFor(16384).at(-1)).toBe(122880);
    expect(fargateMemoryFor(3)).toEqual([]);
  });

  it('bounds ephemeral storage to 21-200 GiB', () => {
    expect(EPHEMERAL_STORAGE_GIB).toEqual({ min: 21, max: 200 });
    expect([20, 21, 200, 201, 50.5].map(isValidEphemeralStorage)).toEqual([false, true, true, false, false]);
  });
});
