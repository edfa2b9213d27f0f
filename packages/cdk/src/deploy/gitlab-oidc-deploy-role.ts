import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { deployRoleProblems, knownClientIds } from '../validation/deploy-role-checks';

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
   * The IAM OIDC provider for the GitLab instance, in the account this role lives in. Create one per account and list
   * every deploy role's {@link audience} in its client IDs, e.g. `new iam.OidcProviderNative(this, 'GitLab', { url:
   * 'https://gitlab.com', clientIds: [GitLabOidcDeployRole.defaultAudience('gitlab.com', 'production'), ...] })`.
   * STS rejects a token whose `aud` is not one of the provider's client IDs. A provider created in the same app is
   * checked at synth time; an imported one (`OidcProviderNative.fromOidcProviderArn`) cannot be, so add the
   * audiences to it yourself (`aws iam add-client-id-to-open-id-connect-provider`).
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
   * production to protected refs. A ref made only of wildcards and slashes (`*`, `**`, `*?`, `?*`, `*\/*`) is an
   * error: it would trust (nearly) every ref.
   * @default ['main']
   */
  readonly refs?: string[];

  /**
   * Whether {@link refs} are branches or tags (the `ref_type` claim).
   * @default GitLabRefType.BRANCH
   */
  readonly refType?: GitLabRefType;

  /**
   * The audience the deploy job requests in `id_tokens: <NAME>: aud:` (the `aud` claim). It must be this
   * environment's own, and one of the provider's client IDs. GitLab's `sub` claim cannot tell environments apart (two
   * deploy jobs on `main` get the same `sub`), so the audience is what stops the token of an automatic dev deploy job
   * from assuming the production role: a job only receives the tokens its `.gitlab-ci.yml` entry declares.
   * @default GitLabOidcDeployRole.defaultAudience(gitlabHost, environment): `https://<gitlabHost>/deploy/<environment>`
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
   * Accept the web-identity call only through an STS interface VPC endpoint in these VPCs (`aws:SourceVpc`), e.g.
   * the VPC of the production runner, so a job on another environment's runner cannot use this role even with a
   * valid token. The call must then reach STS through that endpoint: `RunnerVpcEndpoints` with `sts: true` (private
   * DNS) in those VPCs, and the regional STS endpoint (the AWS SDKs' and CLI's default). Calls over the internet fail.
   * @default - any network
   */
  readonly sourceVpcIds?: string[];

  /**
   * Like {@link sourceVpcIds}, but names the STS interface endpoints themselves (`aws:SourceVpce`). Both may be set;
   * a call must then satisfy both.
   * @default - any endpoint
   */
  readonly sourceVpcEndpointIds?: string[];

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
 * Each role trusts its own audience (by default `https://<gitlabHost>/deploy/<environment>`), so a dev deploy
 * job's token cannot assume the production role even though both jobs run on `main`. In `.gitlab-ci.yml`:
 *
 * ```yaml
 * deploy production:
 *   tags: [production]
 *   environment: production
 *   id_tokens:
 *     AWS_ID_TOKEN: { aud: https://gitlab.com/deploy/production }
 *   variables:
 *     AWS_ROLE_ARN: arn:aws:iam::111111111111:role/...
 *     AWS_WEB_IDENTITY_TOKEN_FILE: $CI_PROJECT_DIR/.aws-id-token
 *   script:
 *     - echo "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"
 *     - ./scripts/deploy.sh
 * ```
 */
export class GitLabOidcDeployRole extends Construct implements iam.IGrantable {
  /**
   * The audience a deploy role for `environment` trusts unless told otherwise, and what the deploy job puts in
   * `id_tokens: <NAME>: aud:`: `https://<gitlabHost>/deploy/<environment>`.
   */
  public static defaultAudience(gitlabHost: string, environment: string): string {
    return `https://${gitlabHost}/deploy/${environment}`;
  }

  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;
  /** The `aud` this role trusts: list it in the provider's client IDs and in the deploy job's `id_tokens`. */
  public readonly audience: string;
  /** The GitLab environment this role deploys to. */
  public readonly environment: string;
  /** The IAM OIDC provider the role trusts. */
  public readonly provider: iam.IOidcProvider;

  constructor(scope: Construct, id: string, props: GitLabOidcDeployRoleProps) {
    super(scope, id);
    const host = props.gitlabHost ?? 'gitlab.com';
    const refs = props.refs ?? ['main'];
    const refType = props.refType ?? GitLabRefType.BRANCH;
    this.audience = props.audience ?? GitLabOidcDeployRole.defaultAudience(host, props.environment);
    this.environment = props.environment;
    this.provider = props.provider;
    const settings = { ...props, gitlabHost: host, refs, refType, audience: this.audience };
    for (const problem of [...deployRoleProblems(settings), ...this.audienceProblems()]) {
      Annotations.of(this).addError(problem);
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.OpenIdConnectPrincipal(props.provider, trustConditions(props, host, refs, refType, this.audience)),
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

  /** The audience must be a client ID of the provider, and no other environment's role may trust the same one. */
  private audienceProblems(): string[] {
    const problems: string[] = [];
    const clientIds = knownClientIds(this.provider);
    if (clientIds !== undefined && !clientIds.includes(this.audience)) {
      problems.push(
        `audience "${this.audience}" is not one of the OIDC provider's client IDs (${clientIds.join(', ') || 'none'}), ` +
          "so STS would reject every token: add it to the provider's clientIds.",
      );
    }
    const sharing = this.node.root.node
      .findAll()
      .filter((c): c is GitLabOidcDeployRole => c instanceof GitLabOidcDeployRole && c !== this)
      .filter((other) => other.provider === this.provider && other.audience === this.audience)
      .filter((other) => other.environment !== this.environment);
    for (const other of sharing) {
      problems.push(
        `audience "${this.audience}" is also trusted by ${other.node.path} (environment ${other.environment}): a ` +
          `token for one environment would assume the other's role. Give each environment its own audience ` +
          '(leave audience unset for https://<gitlabHost>/deploy/<environment>).',
      );
    }
    return problems;
  }
}

/** The trust policy's conditions: this audience, these refs of this project, and optionally the network. */
function trustConditions(
  props: GitLabOidcDeployRoleProps,
  host: string,
  refs: string[],
  refType: GitLabRefType,
  audience: string,
): iam.Conditions {
  const subjects = refs.map((ref) => `project_path:${props.projectPath}:ref_type:${refType}:ref:${ref}`);
  const wildcard = refs.some((ref) => /[*?]/.test(ref));
  return {
    StringEquals: {
      [`${host}:aud`]: audience,
      ...(wildcard ? {} : { [`${host}:sub`]: subjects }),
      ...(props.sourceVpcIds ? { 'aws:SourceVpc': props.sourceVpcIds } : {}),
      ...(props.sourceVpcEndpointIds ? { 'aws:SourceVpce': props.sourceVpcEndpointIds } : {}),
    },
    ...(wildcard ? { StringLike: { [`${host}:sub`]: subjects } } : {}),
  };
}
