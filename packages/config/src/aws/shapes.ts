/** Shapes of AWS names, ids and ARNs, as the ECS and EC2 APIs accept them. */

const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const ACCOUNT = '\\d{12}';
const NAME = '[A-Za-z0-9_-]{1,255}';

/** An AWS Region code such as `eu-west-1` or `us-gov-west-1`. */
export const REGION_PATTERN = new RegExp(`^${REGION}$`);

/** An ECS cluster name or cluster ARN. */
export const CLUSTER_PATTERN = new RegExp(`^(?:${NAME}|arn:${PARTITION}:ecs:${REGION}:${ACCOUNT}:cluster/${NAME})$`);

/** A task definition `family`, `family:revision` or task-definition ARN. */
export const TASK_DEFINITION_PATTERN = new RegExp(
  `^(?:${NAME}(?::[1-9]\\d*)?|arn:${PARTITION}:ecs:${REGION}:${ACCOUNT}:task-definition/${NAME}:[1-9]\\d*)$`,
);

/** A subnet id as accepted by the API: `subnet-` then letters and digits. */
export const SUBNET_PATTERN = /^subnet-[0-9A-Za-z]+$/;
/** A subnet id as AWS issues them: 8 or 17 lowercase hex digits. */
export const SUBNET_STRICT_PATTERN = /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** A security group id as accepted by the API. */
export const SECURITY_GROUP_PATTERN = /^sg-[0-9A-Za-z]+$/;
/** A security group id as AWS issues them. */
export const SECURITY_GROUP_STRICT_PATTERN = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** A Fargate platform version: `LATEST` or `x.y.z`. */
export const PLATFORM_VERSION_PATTERN = /^(?:LATEST|\d+\.\d+\.\d+)$/;

/** A container name in a task definition. */
export const CONTAINER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/** The ECS limits that apply to one task's network and tags. */
export const ECS_LIMITS = {
  /** `awsvpcConfiguration.subnets` */
  maxSubnets: 16,
  /** `awsvpcConfiguration.securityGroups` */
  maxSecurityGroups: 5,
  /** RunTask `tags` */
  maxTags: 50,
  maxTagKeyLength: 128,
  maxTagValueLength: 256,
  /** RunTask `capacityProviderStrategy` */
  maxCapacityProviders: 20,
  maxCapacityProviderWeight: 1000,
  maxCapacityProviderBase: 100000,
} as const;

/** Characters AWS allows in tag keys and values. */
export const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** The Fargate capacity providers a task can be placed with. */
export const FARGATE_CAPACITY_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;
