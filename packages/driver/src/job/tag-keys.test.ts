import { DRIVER_TASK_TAG_KEYS } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { TAG_KEYS } from './plan.js';

describe('TAG_KEYS', () => {
  it("are the keys the config refuses in [Fargate] Tags (DRIVER_TASK_TAG_KEYS), so no configured tag imitates one", () => {
    expect(Object.values(TAG_KEYS).sort()).toEqual([...DRIVER_TASK_TAG_KEYS].sort());
  });
});
