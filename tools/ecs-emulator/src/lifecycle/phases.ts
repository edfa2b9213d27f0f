/** How long a task stays in each timed state (and a registration takes). The others last as long as Docker takes. */
export interface PhaseDurations {
  /** PROVISIONING (ENI creation on AWS; seconds there). @default 100 */
  readonly provisioningMs: number;
  /** PENDING (image pull on AWS) minus the time Docker takes to create and start the containers. @default 100 */
  readonly pendingMs: number;
  /** ACTIVATING (load balancer registration on AWS, brief for standalone tasks). @default 50 */
  readonly activatingMs: number;
  /** DEACTIVATING. @default 50 */
  readonly deactivatingMs: number;
  /** DEPROVISIONING (ENI detach on AWS). @default 50 */
  readonly deprovisioningMs: number;
  /**
   * How long RegisterTaskDefinition takes to create a revision; another registration into the same family
   * meanwhile gets `Too many concurrent attempts…`. @default 100
   */
  readonly registrationMs: number;
}

/** Small defaults so tests and benchmarks move fast; on AWS a task takes tens of seconds to start. */
export const DEFAULT_PHASES: PhaseDurations = {
  provisioningMs: 100,
  pendingMs: 100,
  activatingMs: 50,
  deactivatingMs: 50,
  deprovisioningMs: 50,
  registrationMs: 100,
};
