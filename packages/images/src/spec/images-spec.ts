import { readCiCoordinatorSpec, type CiCoordinatorSpec, type ResolvedCiCoordinatorSpec } from './ci-coordinator.js';
import { readCiToolsSpec } from './ci-tools.js';
import { FieldReader } from './fields.js';
import { IssueCollector } from './issues.js';
import { readJobAgentSpec, type JobAgentSpec, type ResolvedJobAgentSpec } from './job-agent.js';
import { readRunnerManagerSpec, type ResolvedRunnerManagerSpec, type RunnerManagerSpec } from './runner-manager.js';

/** The images' specs, as `gitlab-fargate-images generate --spec FILE` reads them from JSON. */
export interface ImagesSpec {
  /**
   * The job container.
   * @default {} (every default of CiCoordinatorSpec)
   */
  readonly ciCoordinator?: CiCoordinatorSpec;
  /**
   * The runner manager.
   * @default {} (every default of RunnerManagerSpec)
   */
  readonly runnerManager?: RunnerManagerSpec;
  /**
   * The job agent (init container that brings SSH to any job image).
   * @default {} (every default of JobAgentSpec)
   */
  readonly jobAgent?: JobAgentSpec;
  /**
   * The job container of this repository's own pipeline: a ci-coordinator spec whose defaults are CI_TOOLS_DEFAULTS
   * (a Node.js base image and the tools the pipeline's jobs call).
   * @default {} (every default of CI_TOOLS_DEFAULTS)
   */
  readonly ciTools?: CiCoordinatorSpec;
}

/** An {@link ImagesSpec} with every default applied. */
export interface ResolvedImagesSpec {
  readonly ciCoordinator: ResolvedCiCoordinatorSpec;
  readonly runnerManager: ResolvedRunnerManagerSpec;
  readonly jobAgent: ResolvedJobAgentSpec;
  readonly ciTools: ResolvedCiCoordinatorSpec;
}

/**
 * Applies defaults to every image's spec and checks them; accepts untyped input such as parsed JSON.
 * @throws SpecValidationError listing every problem in any spec.
 */
export function resolveImagesSpec(input: ImagesSpec | unknown = {}): ResolvedImagesSpec {
  const issues = new IssueCollector();
  const fields = FieldReader.of(input, '', issues);
  fields.rejectUnknownKeys(['ciCoordinator', 'runnerManager', 'jobAgent', 'ciTools']);
  const resolved = {
    ciCoordinator: readCiCoordinatorSpec((input as ImagesSpec | undefined)?.ciCoordinator, 'ciCoordinator', issues),
    runnerManager: readRunnerManagerSpec((input as ImagesSpec | undefined)?.runnerManager, 'runnerManager', issues),
    jobAgent: readJobAgentSpec((input as ImagesSpec | undefined)?.jobAgent, 'jobAgent', issues),
    ciTools: readCiToolsSpec((input as ImagesSpec | undefined)?.ciTools, 'ciTools', issues),
  };
  issues.throwIfAny();
  return resolved;
}
