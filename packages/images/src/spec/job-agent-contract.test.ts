import * as config from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import * as images from './job-agent-contract.js';

// The driver builds job tasks from the config package's contract; this package renders the agent from its own copy
// (config is only a devDependency here, so the renderers cannot import it at run time). Two homes of one fact: this
// test proves they agree.
describe('the job-agent contract', () => {
  it.each([
    'JOB_AGENT_DIR',
    'JOB_AGENT_BUSYBOX',
    'JOB_AGENT_ENTRY',
    'JOB_AGENT_ENTRY_POINT',
    'JOB_AGENT_CONTAINER_USER',
    'JOB_AGENT_LOGIN_NAME',
    'JOB_AGENT_DEFAULT_SSH_PORT',
    'JOB_AGENT_ENV',
  ] as const)('%s is the same in the images package and in the config package the driver uses', (name) => {
    expect(images[name]).toEqual(config[name]);
  });
});
