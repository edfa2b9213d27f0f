import { createHash } from 'node:crypto';
import type { DriverConfig } from '@gitlab-fargate/config';
import type { LaunchPlan } from '../aws/launch.js';

/** Hex digits of a pool key or config hash: short enough for file names and tags, long enough never to collide. */
const KEY_HEX_DIGITS = 16;

/**
 * What decides whether a job can use a pool task: everything about its RunTask that cannot change after launch
 * (task definition, size, capacity, network, platform version). A job whose own plan gives another key takes the
 * cold path. `imageHash` is reserved for the job-image work (`image:`/`services:`): a derived task definition per
 * image already changes `taskDefinition`; the hash will carry what the definition does not.
 */
export function poolKey(plan: LaunchPlan, imageHash = ''): string {
  return digest([
    plan.cluster,
    plan.taskDefinition,
    plan.cpu ?? '',
    plan.memory ?? '',
    String(plan.ephemeralStorageGiB ?? ''),
    JSON.stringify(plan.placement),
    String(plan.onDemandFallback),
    plan.platformVersion ?? '',
    [...plan.subnets].sort().join(','),
    [...plan.securityGroups].sort().join(','),
    String(plan.assignPublicIp),
    String(plan.enableExecuteCommand),
    plan.containerName,
    imageHash,
  ]);
}

/**
 * The pool key plus what else a task was started with that a job relies on (the configured tags, tag propagation,
 * the SSH user and port): a config change that alters any of it drains the older entries.
 */
export function configHash(key: string, config: DriverConfig): string {
  const { fargate, ssh } = config;
  const tags = Object.entries(fargate.tags).sort(([a], [b]) => a.localeCompare(b));
  return digest([key, JSON.stringify(tags), fargate.propagateTags, String(fargate.enableEcsManagedTags), ssh.username, String(ssh.port)]);
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, KEY_HEX_DIGITS);
}
