import { describe, expect, it } from 'vitest';
import { deferred } from './deferred.js';

describe('deferred', () => {
  it('resolves its promise from outside, once: the first settlement wins', async () => {
    const result = deferred<string>();
    result.resolve('first');
    result.resolve('second');
    result.reject(new Error('too late'));
    await expect(result.promise).resolves.toBe('first');
  });

  it('rejects its promise from outside', async () => {
    const result = deferred<string>();
    result.reject(new Error('no connection'));
    await expect(result.promise).rejects.toThrow('no connection');
  });
});
