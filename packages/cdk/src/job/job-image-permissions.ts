import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeNag, NAG_ARN_PREFIX } from '../validation/nag';
import { JobImages } from './job-images';

/**
 * Where the ECS actions below stand in AWS's Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html):
 * DescribeTaskDefinition, ListTaskDefinitions and DeregisterTaskDefinition list no resource type, so `*` is the only
 * resource IAM accepts for them. RegisterTaskDefinition now requires the `task-definition` resource type
 * (`task-definition/<family>:<revision>`) and takes `aws:RequestTag` and `aws:TagKeys`, so it is limited to the
 * derived families; TagResource and DeleteTaskDefinitions take task-definition ARNs too. What a registered definition
 * can do is bounded by iam:PassRole besides: the manager may pass only the job's two roles, to ECS tasks only.
 */
const NO_RESOURCE_LEVEL = ['*'];

/** Every revision of the derived families, `task-definition/<prefix>-*:*`, in this stack's account and region. */
export function derivedFamiliesArn(scope: Construct, images: JobImages): string {
  return Stack.of(scope).formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${images.familyPrefix}-*:*` });
}

/**
 * What a manager's driver needs for `[JobImages]` at prepare, beside RunTask on the derived families (in
 * `managerJobStatements`) and PassRole on the job's two roles (already there): describe a family before registering
 * it, register only into the derived families (`<prefix>-*`) and only with the driver's own tags
 * (`gitlab-fargate:managed=true`, its hash and image), and tag the derived families, with those keys and the daily
 * `gitlab-fargate:last-used` only.
 */
export function jobImageManagerStatements(scope: Construct, images: JobImages): iam.PolicyStatement[] {
  const [managed, hash, image, lastUsed] = JobImages.TASK_DEFINITION_TAG_KEYS;
  return [
    new iam.PolicyStatement({
      sid: 'DescribeJobTaskDefinitions',
      actions: ['ecs:DescribeTaskDefinition'],
      resources: NO_RESOURCE_LEVEL,
    }),
    new iam.PolicyStatement({
      sid: 'RegisterJobTaskDefinitions',
      actions: ['ecs:RegisterTaskDefinition'],
      resources: [derivedFamiliesArn(scope, images)],
      conditions: {
        StringEquals: { [`aws:RequestTag/${JobImages.MANAGED_TAG}`]: 'true' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [managed, hash, image] },
      },
    }),
    // RegisterTaskDefinition with tags is authorised for ecs:TagResource on the new definition too; the driver also
    // tags a definition it reuses with gitlab-fargate:last-used. Only the derived families, only the driver's keys.
    new iam.PolicyStatement({
      sid: 'TagJobTaskDefinitions',
      actions: ['ecs:TagResource'],
      resources: [derivedFamiliesArn(scope, images)],
      conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [managed, hash, image, lastUsed] } },
    }),
  ];
}

/**
 * What `gitlab-fargate-driver gc` (the orphan reaper) needs to retire unused derived families: list the account's
 * task definitions (it keeps `<prefix>-<16 hex>` ones tagged `gitlab-fargate:managed=true`), describe them with their
 * tags, deregister, then delete the derived families' revisions.
 */
export function jobImageGcStatements(scope: Construct, images: JobImages): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'FindUnusedJobTaskDefinitions',
      actions: ['ecs:ListTaskDefinitions', 'ecs:DescribeTaskDefinition'],
      resources: NO_RESOURCE_LEVEL,
    }),
    new iam.PolicyStatement({
      sid: 'DeregisterUnusedJobTaskDefinitions',
      actions: ['ecs:DeregisterTaskDefinition'],
      resources: NO_RESOURCE_LEVEL,
    }),
    new iam.PolicyStatement({
      sid: 'DeleteUnusedJobTaskDefinitions',
      actions: ['ecs:DeleteTaskDefinitions'],
      resources: [derivedFamiliesArn(scope, images)],
    }),
  ];
}

/** The cdk-nag findings these statements raise on `role`, each acknowledged with its reason. */
export function acknowledgeJobImageFindings(role: iam.IRole, images: JobImages): void {
  acknowledgeNag(
    role,
    `AwsSolutions-IAM5[Resource::${NAG_ARN_PREFIX}ecs:<AWS::Region>:<AWS::AccountId>:task-definition/${images.familyPrefix}-*:*]`,
    'The task definitions the driver derives for job images are named at run time after a hash of their content: ' +
      'registering, tagging, running and deleting are limited to the families of this environment\'s prefix.',
  );
  acknowledgeNag(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'ecs:DescribeTaskDefinition, ListTaskDefinitions and DeregisterTaskDefinition have no resource-level ' +
      'permissions (Service Authorization Reference): they only read, or retire what gc finds unused.',
  );
}
