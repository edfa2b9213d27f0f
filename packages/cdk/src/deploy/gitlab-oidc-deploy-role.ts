import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Which kind of git ref a GitLab ID token's `ref` claim names. */
export enum GitLabRefType {
  /** A branch, e.g. `main`. */
  BRANCH = 'branch',
  /** A tag, e.g. `v1.2.3`. */
  TAG = 'tag',
}

/** Properties of {@link GitLabOidcDeployRole}. */
export interface GitLabOidcDeployRoleProps {
  /**
   * The IAM OIDC provider for the GitLab instance, in the account this role lives in. Create one per account, e.g.
   * `new iam.OidcProviderNative(this, 'GitLab', { url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] })`.
   */
  readonly provider: iam.IOidcProvider;

  /**
   * The GitLab instance's host as written in the provider URL, without `https://`; IAM's condition keys are named
   * after it (`gitlab.com:sub`).
   * @default 'gitlab.com'
   */
  readonly gitlabHost?: string;

  /** The project whose pipelines may assume the role, e.g. `acme/platform/web-app` (the `project_path` claim). */
  readonly projectPath: string;

  /**
   * Refs whose pipelines may assume the role (the `ref` claim). `*` and `?` match like IAM's StringLike; keep
   * production to protected refs.
   * @default ['main']
   */
  readonly refs?: string[];

  /**
   * Whether {@link refs} are branches or tags (the `ref_type` claim).
   * @default GitLabRefType.BRANCH
   */
  readonly refType?: GitLabRefType;

  /**
   * The audience the job requests in `id_tokens: <NAME>: aud:` (the `aud` claim); must be one of the provider's
   * client IDs.
   * @default `https://${gitlabHost}`
   */
  readonly audience?: string;

  /**
   * The GitLab environment this role deploys to (e.g. `production`). IAM cannot read GitLab's `environment` claim
   * (only `aud` and `sub` are condition keys, and GitLab's `sub` cannot include the environment), so this names and
   * tags the role; the environment is fenced by {@link refs}, by protected environments in GitLab, and, with
   * {@link sourceVpcIds}, by the network the environment's runner jobs run in.
   */
  readonly environment: string;

  /**
   * Accept the web-identity call only through an STS VPC endpoint in these VPCs (`aws:SourceVpc`), e.g. the VPC of
   * the runner environment of the same name, so a job on another environment's runner cannot use this role even
   * with a valid token. Needs `RunnerVpcEndpoints` with `sts: true` in those VPCs.
   * @default - any network
   */
  readonly sourceVpcIds?: string[];

  /**
   * Longest session a job can request.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/**
 * A deploy role that GitLab CI jobs of one project and ref assume with a GitLab ID token
 * (`AssumeRoleWithWebIdentity`), so deploy jobs hold no long-lived AWS keys. Create one per target environment and
 * account, and grant it what deploying there needs: the role is an `IGrantable`.
 *
 * In `.gitlab-ci.yml`:
 *
 * ```yaml
 * deploy production:
 *   tags: [production]
 *   environment: production
 *   id_tokens:
 *     AWS_ID_TOKEN: { aud: https://gitlab.com }
 *   variables:
 *     AWS_ROLE_ARN: arn:aws:iam::111111111111:role/...
 *     AWS_WEB_IDENTITY_TOKEN_FILE: $CI_PROJECT_DIR/.aws-id-token
 *   script:
 *     - echo "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"
 *     - ./scripts/deploy.sh
 * ```
 */
export class GitLabOidcDeployRole extends Construct implements iam.IGrantable {
  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: GitLabOidcDeployRoleProps) {
    super(scope, id);
    const host = props.gitlabHost ?? 'gitlab.com';
    const refs = props.refs ?? ['main'];
    const refType = props.refType ?? GitLabRefType.BRANCH;
    const audience = props.audience ?? `https://${host}`;
    for (const problem of deployRoleProblems(props, host, refs)) Annotations.of(this).addError(problem);

    const subjects = refs.map((ref) => `project_path:${props.projectPath}:ref_type:${refType}:ref:${ref}`);
    const wildcard = refs.some((ref) => /[*?]/.test(ref));
    const conditions: iam.Conditions = {
      StringEquals: {
        [`${host}:aud`]: audience,
        ...(wildcard ? {} : { [`${host}:sub`]: subjects }),
        ...(props.sourceVpcIds ? { 'aws:SourceVpc': props.sourceVpcIds } : {}),
      },
      ...(wildcard ? { StringLike: { [`${host}:sub`]: subjects } } : {}),
    };

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.OpenIdConnectPrincipal(props.provider, conditions),
      description: `GitLab CI deploys of ${props.projectPath} (${refType} ${refs.join(', ')}) to ${props.environment}`,
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    this.grantPrincipal = this.role;
  }

  /**
   * Lets the role run `cdk deploy` in its own account: it may assume the roles `cdk bootstrap` created there
   * (deploy, file and image publishing, lookup), and nothing else. CloudFormation then acts with the bootstrap's
   * execution role, so the deploy job itself holds no broad permissions.
   *
   * @param qualifier the bootstrap qualifier (`cdk bootstrap --qualifier`)
   * @default qualifier 'hnb659fds' (CDK's default)
   */
  public grantCdkDeploy(qualifier?: string): void {
    const q = qualifier ?? 'hnb659fds';
    if (!Token.isUnresolved(q) && !/^[a-z0-9]{1,10}$/.test(q)) {
      Annotations.of(this).addError(`qualifier "${q}" must be the bootstrap qualifier: 1-10 lower-case letters or digits.`);
    }
    const { account, partition, region } = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
          (kind) => `arn:${partition}:iam::${account}:role/cdk-${q}-${kind}-role-${account}-${region}`,
        ),
      }),
    );
  }
}

function deployRoleProblems(props: GitLabOidcDeployRoleProps, host: string, refs: string[]): string[] {
  const problems: string[] = [];
  if (Token.isUnresolved(host) || !/^[a-z0-9.-]+(:[0-9]+)?(\/[^\s]*)?$/i.test(host) || host.includes('://')) {
    problems.push(`gitlabHost "${host}" must be the provider URL without https:// (e.g. gitlab.example.com).`);
  }
  if (!/^[\w.-]+(\/[\w.-]+)+$/.test(props.projectPath)) {
    problems.push(
      `projectPath "${props.projectPath}" must be a full project path such as group/project or group/sub/project, ` +
        'without wildcards: a wildcard would trust every project under it.',
    );
  }
  if (refs.length === 0) problems.push('refs is empty: no pipeline could assume the role.');
  for (const ref of refs) {
    if (ref === '*' || ref.trim() === '') {
      problems.push(`refs entry "${ref}" would trust every ${props.refType ?? 'branch'}; name the refs to trust.`);
    }
  }
  if (!/^[\w.\- /]{1,255}$/.test(props.environment)) {
    problems.push(`environment "${props.environment}" must be a GitLab environment name such as production.`);
  }
  return problems;
}
