/** Exit status when the container is started wrongly (sysexits.h EX_CONFIG); the entrypoint uses it too. */
export const EXIT_MISCONFIGURED = 78;

/** Exit status when something outside the container failed (SSM or ECS's metadata endpoint unreachable). */
export const EXIT_UNAVAILABLE = 1;

/** A setting of the task (a variable, the parameter's value) is wrong: the helper exits {@link EXIT_MISCONFIGURED}. */
export class MisconfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MisconfiguredError';
  }
}
