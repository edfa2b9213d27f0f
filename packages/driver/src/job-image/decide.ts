import type { DriverConfig } from '@gitlab-fargate/config';
import type { JobEnvironment } from '../job/environment.js';
import { type JobImageRequest, readJobImageRequest } from './payload.js';

// Apart from `prepare-job-image.ts` (which describes and registers task definitions): every prepare decides this
// before anything else, and the decision loads no AWS SDK.

/** What prepare does about a job's `image:` and `services:`. */
export type JobImageDecision =
  /** Nothing to honour (or `[JobImages]` off and nothing named): today's path, byte for byte. */
  | { readonly kind: 'none' }
  /** `[JobImages] Enabled = false` but the job names an image or services: one job-log line says so. */
  | { readonly kind: 'ignored'; readonly line: string }
  | { readonly kind: 'honoured'; readonly request: JobImageRequest };

/** The variables {@link readJobImageRequest} reads, from what gitlab-runner handed the stage. */
function requestEnvironment(env: JobEnvironment): NodeJS.ProcessEnv {
  return {
    ...(env.jobResponseFile === undefined ? {} : { JOB_RESPONSE_FILE: env.jobResponseFile }),
    ...(env.variables.has('CI_JOB_IMAGE') ? { CUSTOM_ENV_CI_JOB_IMAGE: env.variables.get('CI_JOB_IMAGE') } : {}),
  };
}

/** What the job names, for the "ignored" line; a payload the driver cannot read names only `CI_JOB_IMAGE`. */
function namedWhenDisabled(env: JobEnvironment): string | undefined {
  let request: JobImageRequest;
  try {
    request = readJobImageRequest(requestEnvironment(env));
  } catch {
    request = readJobImageRequest({ CUSTOM_ENV_CI_JOB_IMAGE: env.variables.get('CI_JOB_IMAGE') ?? '' });
  }
  const parts = [
    ...(request.image === undefined ? [] : [`image: ${request.image.name}`]),
    ...(request.services.length === 0 ? [] : [`services: ${request.services.map((service) => service.name).join(', ')}`]),
  ];
  return parts.length === 0 ? undefined : parts.join('; ');
}

/**
 * Whether this job's `image:` and `services:` are honoured. With `[JobImages] Enabled = false` nothing is read that
 * could fail the job: a job naming an image gets one line saying how to enable it.
 * @throws SystemFailure for a payload that cannot be read, when `[JobImages]` is on
 */
export function decideJobImage(config: DriverConfig, env: JobEnvironment): JobImageDecision {
  if (!config.jobImages.enabled) {
    const named = namedWhenDisabled(env);
    if (named === undefined) return { kind: 'none' };
    return {
      kind: 'ignored',
      line:
        `This job's ${named} ignored: this runner runs every job in its task definition's image. ` +
        "To honour image: and services:, the runner's administrator sets [JobImages] Enabled = true and AgentImage in the driver's TOML",
    };
  }
  const request = readJobImageRequest(requestEnvironment(env));
  return request.image === undefined && request.services.length === 0 ? { kind: 'none' } : { kind: 'honoured', request };
}
