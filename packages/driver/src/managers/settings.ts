import { SystemFailure } from '../errors.js';

/** What `managers reconcile` keeps true, from the controller task's environment (see {@link readControllerSettings}). */
export interface ControllerSettings {
  /** The environment's cluster (name or ARN). */
  readonly cluster: string;
  /**
   * The manager task definition to run, with its revision (`arn:…:task-definition/FAMILY:REV` or `FAMILY:REV`). It is
   * also the managers' version: a manager of another revision of the family is old, drains and is stopped.
   */
  readonly taskDefinition: string;
  /** The manager container, which gets {@link MANAGER_VERSION_VARIABLE} as a RunTask override. */
  readonly containerName: string;
  /** How many managers of the current version to keep running. */
  readonly count: number;
  /** Subnets to spread the managers over, one subnet per availability zone. */
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly assignPublicIp: boolean;
  /**
   * How long an old manager may keep running its jobs after it was first found old: the longest job timeout plus its
   * cleanup. Past it the manager and its job tasks are stopped.
   */
  readonly drainTimeoutSeconds: number;
  /**
   * How long an old manager is given, once found old, before having no job tasks is taken to mean it has drained:
   * the manager reads the desired version every 30 s by default, and a job it took just before that may not have
   * its task yet.
   */
  readonly drainSettleSeconds: number;
}

/** The variable a manager compares with the settings parameter's `GITLAB_FARGATE_MANAGER_VERSION` to know it is old. */
export const MANAGER_VERSION_VARIABLE = 'GITLAB_FARGATE_MANAGER_VERSION';

/** The controller task's environment variables, as the CDK construct sets them. */
export const CONTROLLER_VARIABLES = {
  cluster: 'CLUSTER',
  taskDefinition: 'MANAGER_TASK_DEFINITION',
  containerName: 'MANAGER_CONTAINER_NAME',
  count: 'MANAGER_COUNT',
  subnets: 'MANAGER_SUBNETS',
  securityGroups: 'MANAGER_SECURITY_GROUP_IDS',
  assignPublicIp: 'MANAGER_ASSIGN_PUBLIC_IP',
  drainTimeout: 'MANAGER_DRAIN_TIMEOUT_SECONDS',
  drainSettle: 'MANAGER_DRAIN_SETTLE_SECONDS',
} as const;

/** Default of {@link ControllerSettings.drainSettleSeconds}. */
export const DEFAULT_DRAIN_SETTLE_SECONDS = 300;

const TASK_DEFINITION = /^(arn:[^:]+:ecs:[^:]+:\d+:task-definition\/)?[A-Za-z0-9_-]{1,255}:\d+$/;

/**
 * Reads and checks the controller's settings. Every problem is reported at once, with the variable's name, before
 * any AWS call.
 *
 * @throws SystemFailure listing every missing or malformed variable
 */
export function readControllerSettings(env: NodeJS.ProcessEnv): ControllerSettings {
  const problems: string[] = [];
  const v = CONTROLLER_VARIABLES;
  const text = (name: string, pattern: RegExp, what: string): string => {
    const value = env[name]?.trim() ?? '';
    if (!pattern.test(value)) problems.push(`${name} must be ${what}, found ${value === '' ? 'nothing' : JSON.stringify(value.slice(0, 120))}`);
    return value;
  };
  const list = (name: string, pattern: RegExp, one: string): string[] =>
    text(name, /./, `a comma-separated list of ${one}s`).split(',').map((item) => item.trim()).filter((item, index, all) => {
      if (!pattern.test(item)) problems.push(`${name}: ${JSON.stringify(item)} is not a ${one}`);
      return all.indexOf(item) === index;
    });
  const seconds = (name: string, fallback?: number): number => {
    if (fallback !== undefined && (env[name] ?? '') === '') return fallback;
    return Number(text(name, /^\d{1,9}$/, 'whole seconds'));
  };
  const settings: ControllerSettings = {
    cluster: text(v.cluster, /^(arn:\S+:cluster\/)?[A-Za-z0-9_-]{1,255}$/, 'the cluster name or ARN'),
    taskDefinition: text(v.taskDefinition, TASK_DEFINITION, 'a task definition with its revision (FAMILY:REVISION or its ARN)'),
    containerName: text(v.containerName, /^[A-Za-z0-9_-]{1,255}$/, "the manager container's name"),
    count: Number(text(v.count, /^([1-9]|10)$/, 'a number of managers from 1 to 10')),
    subnets: list(v.subnets, /^subnet-[0-9a-f]+$/, 'subnet ID'),
    securityGroups: list(v.securityGroups, /^sg-[0-9a-f]+$/, 'security group ID'),
    assignPublicIp: text(v.assignPublicIp, /^(true|false)$/, 'true or false') === 'true',
    drainTimeoutSeconds: seconds(v.drainTimeout),
    drainSettleSeconds: seconds(v.drainSettle, DEFAULT_DRAIN_SETTLE_SECONDS),
  };
  if (problems.length > 0) {
    throw new SystemFailure(`managers reconcile: bad settings in its environment (the CDK construct sets them):\n  ${problems.join('\n  ')}`);
  }
  return settings;
}

/** `FAMILY:REVISION` of a task definition ARN or reference. */
export function familyRevision(taskDefinition: string): string {
  return taskDefinition.slice(taskDefinition.lastIndexOf('/') + 1);
}

/** The family of a task definition ARN or `FAMILY:REVISION`. */
export function familyOf(taskDefinition: string): string {
  const reference = familyRevision(taskDefinition);
  const colon = reference.lastIndexOf(':');
  return colon === -1 ? reference : reference.slice(0, colon);
}
