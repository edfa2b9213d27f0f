import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { JobImageSettings } from '@gitlab-fargate/config';
import { taskArchitecture } from './agent-image.js';
import { serviceHostnames } from './aliases.js';
import { deriveTaskDefinition, type DerivedTaskDefinition } from './derive.js';
import type { JobImageRequest } from './payload.js';
import { checkJobImagePolicy } from './policy.js';
import { serviceEnvironment, type ServiceEnvironment } from './service-env.js';

/** What {@link planJobImage} needs: the job's request and the runner's settings and template. */
export interface JobImagePlanInput {
  readonly request: JobImageRequest;
  readonly settings: JobImageSettings;
  /** The configured task definition, as DescribeTaskDefinition returns it. */
  readonly template: TaskDefinition;
  /** `[Fargate] ContainerName`. */
  readonly helperContainerName: string;
  /** gitlab-runner's `builds_dir`. */
  readonly buildsDir: string;
}

/** Everything prepare needs to start the job's task, decided before any AWS call. */
export interface JobImagePlan {
  readonly derived: DerivedTaskDefinition;
  /** For the agent's `/etc/hosts` (`GITLAB_FARGATE_HOSTS`). */
  readonly hostnames: readonly string[];
  /** `image: docker: user:`, for `GITLAB_FARGATE_JOB_USER`. */
  readonly user?: string;
  /** Per service container (`svc-0`, …), its environment for RunTask's overrides. */
  readonly services: readonly { readonly containerName: string; readonly environment: ServiceEnvironment }[];
  /** Lines for the job log (variables withheld from services). */
  readonly warnings: readonly string[];
}

/**
 * Checks and plans a job's image and services: the allow-lists and privileged images, the platform, the aliases,
 * the services' environments, the derived task definition and its limits and port clashes. Undefined when the job
 * names neither an image nor services (the task definition is used as it is).
 * @throws SystemFailure (ImageRefused, LimitExceeded) before anything is registered or started.
 */
export function planJobImage(input: JobImagePlanInput): JobImagePlan | undefined {
  const { request, settings, template } = input;
  if (request.image === undefined && request.services.length === 0) return undefined;
  checkJobImagePolicy(request, settings, taskArchitecture(template));
  const hostnames = serviceHostnames(request.services);
  const derived = deriveTaskDefinition({
    template,
    helperContainerName: input.helperContainerName,
    buildsDir: input.buildsDir,
    settings,
    ...(request.image === undefined ? {} : { image: request.image }),
    services: request.services,
  });
  const services = request.services.map((service, index) => ({
    containerName: derived.serviceContainerNames[index] as string,
    environment: serviceEnvironment(service, request.variables),
  }));
  const warnings = services.flatMap(({ containerName, environment }, index) =>
    environment.withheld.length === 0
      ? []
      : [
          `${containerName} (${request.services[index]?.name}): its variables refer to ${environment.withheld.join(', ')}, which are ` +
            'masked, protected, file or unknown variables and are never sent to services: they expand to ""',
        ],
  );
  return { derived, hostnames, ...(request.image?.user === undefined ? {} : { user: request.image.user }), services, warnings };
}
