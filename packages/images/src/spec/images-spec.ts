import { readCiCoordinatorSpec, type CiCoordinatorSpec, type ResolvedCiCoordinatorSpec } from './ci-coordinator.js';
import { FieldReader } from './fields.js';
import { IssueCollector } from './issues.js';
import { readRunnerManagerSpec, type ResolvedRunnerManagerSpec, type RunnerManagerSpec } from './runner-manager.js';

/** Both images' specs, as `gitlab-fargate-images generate --spec FILE` reads them from JSON. */
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
}

/** An {@link ImagesSpec} with every default applied. */
export interface ResolvedImagesSpec {
  readonly ciCoordinator: ResolvedCiCoordinatorSpec;
  readonly runnerManager: ResolvedRunnerManagerSpec;
}

/**
 * Applies defaults to both specs and checks them; accepts untyped input such as parsed JSON.
 * @throws SpecValidationError listing every problem in either spec.
 */
export function resolveImagesSpec(input: ImagesSpec | unknown = {}): ResolvedImagesSpec {
  const issues = new IssueCollector();
  const fields = FieldReader.of(input, '', issues);
  fields.rejectUnknownKeys(['ciCoordinator', 'runnerManager']);
  const resolved = {
    ciCoordinator: readCiCoordinatorSpec((input as ImagesSpec | undefined)?.ciCoordinator, 'ciCoordinator', issues),
    runnerManager: readRunnerManagerSpec((input as ImagesSpec | undefined)?.runnerManager, 'runnerManager', issues),
  };
  issues.throwIfAny();
  return resolved;
}
