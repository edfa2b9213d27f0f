/** A task's placement as a launch plan holds it: launch type FARGATE, or a capacity provider strategy. */
export type PlacementShape =
  | { readonly kind: 'launchType' }
  | { readonly kind: 'strategy'; readonly strategy: readonly { readonly capacityProvider?: string }[] };

/**
 * A placement in words, the one wording of the job log's "Starting a Fargate task … (…)" and "Task … created (…)"
 * lines and of RunTask's failure message: `on-demand FARGATE`, or `capacity providers FARGATE_SPOT, FARGATE`.
 */
export function describePlacement(placement: PlacementShape): string {
  if (placement.kind === 'launchType') return 'on-demand FARGATE';
  // ECS's type leaves the name optional; the driver always sets it, so '?' marks a strategy built elsewhere.
  return `capacity providers ${placement.strategy.map((s) => s.capacityProvider ?? '?').join(', ')}`;
}
