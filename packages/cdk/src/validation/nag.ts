import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges one AwsSolutions (cdk-nag) finding on `scope` and its children, with the reason it is not a problem
 * here. Uses CDK's own Validations API, so this library needs no cdk-nag dependency; users who run
 * `AwsSolutionsChecks` see these acknowledgements with their reasons in the validation report.
 *
 * @param finding the rule id with an optional finding, e.g. `AwsSolutions-IAM5[Resource::*]`
 */
export function acknowledgeNag(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${finding}`, reason });
}

/** How cdk-nag writes a `{ Ref }` to `element` inside a finding id: `<LogicalId>`. */
export function nagRef(element: IConstruct): string {
  const cfn = element.node.defaultChild ?? element;
  if (!(cfn instanceof CfnElement)) throw new Error(`nagRef: ${element.node.path} has no CloudFormation resource`);
  return `<${Stack.of(cfn).getLogicalId(cfn)}>`;
}

/** The prefix cdk-nag renders for `Stack.formatArn` ARNs in finding ids. */
export const NAG_ARN_PREFIX = 'arn:<AWS::Partition>:';

/** Why the execution roles' one wildcard resource is acceptable. */
export const ECR_AUTH_REASON =
  "ecr:GetAuthorizationToken has no resource-level permissions: '*' is the only resource IAM accepts. " +
  "Image pulls themselves are limited to the image's repository.";
