import type { JobSpec } from '@gitlab-fargate/runner-harness';

/** One job the demo runs, and the result that proves the system works. */
export interface DemoJob {
  readonly spec: JobSpec;
  /** What the job must end with for the demo to pass. */
  readonly expected: { readonly outcome: 'success' } | { readonly outcome: 'script_failure'; readonly exitCode: number };
  /** One line for a person: why this job is in the demo. */
  readonly purpose: string;
}

/** The exit code the failing job's script ends with: distinctive, so a mix-up with 1 or 2 shows. */
export const failingExitCode = 3;

/**
 * The seed article's test job (`.gitlab-ci.yml` of "A serverless approach for GitLab integration on AWS"):
 * `echo "It works!"`, then a loop printing a dot a second. The article loops 30 times; `seconds` shortens it.
 */
export function seedArticleJob(seconds: number): DemoJob {
  return {
    purpose: "the seed article's test job",
    expected: { outcome: 'success' },
    spec: {
      name: 'test-dev',
      script: ['echo "It works!"', `for i in $(seq 1 ${seconds}); do echo "."; sleep 1; done`],
      afterScript: [],
      variables: {},
      timeoutSeconds: 300,
    },
  };
}

/** A job whose script fails: the driver must report a script failure with the script's own exit code. */
export function failingJob(): DemoJob {
  return {
    purpose: `a failing script: its exit code (${failingExitCode}) must reach GitLab as a script failure`,
    expected: { outcome: 'script_failure', exitCode: failingExitCode },
    spec: {
      name: 'failing-test',
      script: [
        'echo "Running the test suite in $(hostname)..."',
        'echo "1 of 3 tests failed" >&2',
        `exit ${failingExitCode}`,
      ],
      afterScript: ['echo "after_script still runs after a failure (CI_JOB_STATUS=$CI_JOB_STATUS)"'],
      variables: {},
      timeoutSeconds: 300,
    },
  };
}

/** The images {@link imageAndServiceJob} names (`DEMO_IMAGES`, built by `buildDemoImages`). */
export interface ImageJobImages {
  readonly job: string;
  readonly service: string;
}

/** The alias the image job reaches its service by. */
export const SERVICE_ALIAS = 'web';

/**
 * A job with `image:` and `services:`: its script runs in a FROM scratch busybox image (no sshd, no bash: the driver's
 * job agent makes it reachable), and reads a page from a busybox httpd service by the service's alias. The driver's
 * lines on the service (ready on its port, or exited) are part of the job log.
 */
export function imageAndServiceJob(images: ImageJobImages): DemoJob {
  return {
    purpose: `image: a FROM scratch busybox image without sshd; services: a web server it reaches as "${SERVICE_ALIAS}"`,
    expected: { outcome: 'success' },
    spec: {
      name: 'image-and-service',
      image: { name: images.job },
      services: [{ name: images.service, alias: SERVICE_ALIAS }],
      script: [
        'test ! -e /usr/sbin/sshd && test ! -e /bin/bash && echo "No sshd, no bash here: this is the job image (busybox only)"',
        `echo "The service answers at http://${SERVICE_ALIAS}/: $(wget -qO- http://${SERVICE_ALIAS}/)"`,
      ],
      afterScript: [],
      variables: {},
      timeoutSeconds: 300,
    },
  };
}
