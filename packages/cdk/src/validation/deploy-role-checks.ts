import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** The settings of one GitLab OIDC deploy role that {@link deployRoleProblems} checks. */
export interface DeployRoleSettings {
  readonly gitlabHost: string;
  readonly projectPath: string;
  readonly environment: string;
  readonly refs: string[];
  readonly refType: string;
  readonly audience: string;
  readonly sourceVpcIds?: string[];
  readonly sourceVpcEndpointIds?: string[];
}

/** A ref made only of wildcards and slashes (`*`, `**`, `*?`, `?*`, `*\/*`, …) matches (nearly) every ref. */
const WILDCARDS_ONLY = /^[*?/\s]*$/;
/** IAM accepts OIDC client IDs of 1-255 characters; GitLab puts the string in the `aud` claim as it is. */
const AUDIENCE = /^\S{1,255}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;

/** Problems with a deploy role's props, each saying which prop is wrong and how to fix it. */
export function deployRoleProblems(settings: DeployRoleSettings): string[] {
  const { gitlabHost: host, projectPath, environment } = settings;
  const problems: string[] = [];
  if (Token.isUnresolved(host) || !/^[a-z0-9.-]+(:[0-9]+)?(\/[^\s]*)?$/i.test(host) || host.includes('://')) {
    problems.push(`gitlabHost "${host}" must be the provider URL without https:// (e.g. gitlab.example.com).`);
  }
  if (!/^[\w.-]+(\/[\w.-]+)+$/.test(projectPath)) {
    problems.push(
      `projectPath "${projectPath}" must be a full project path such as group/project or group/sub/project, ` +
        'without wildcards: a wildcard would trust every project under it.',
    );
  }
  problems.push(...refProblems(settings.refs, settings.refType));
  if (!/^[\w.\- /]{1,255}$/.test(environment)) {
    problems.push(`environment "${environment}" must be a GitLab environment name such as production.`);
  }
  if (!Token.isUnresolved(settings.audience) && !AUDIENCE.test(settings.audience)) {
    problems.push(
      `audience "${settings.audience}" must be 1-255 characters without spaces (an IAM OIDC client ID); set ` +
        'audience explicitly, e.g. https://gitlab.example.com/deploy/production.',
    );
  }
  problems.push(...idListProblems('sourceVpcIds', settings.sourceVpcIds, VPC_ID, 'vpc-0123456789abcdef0'));
  problems.push(
    ...idListProblems('sourceVpcEndpointIds', settings.sourceVpcEndpointIds, VPC_ENDPOINT_ID, 'vpce-0123456789abcdef0'),
  );
  return problems;
}

function refProblems(refs: string[], refType: string): string[] {
  if (refs.length === 0) return ['refs is empty: no pipeline could assume the role. Name the refs to trust, e.g. ["main"].'];
  const fix = 'Name the protected refs to trust, e.g. refs: ["main"], or a prefix such as "release/*".';
  return refs.flatMap((ref) => {
    if (ref.trim() === '') return [`refs entry "${ref}" is empty. ${fix}`];
    if (!WILDCARDS_ONLY.test(ref)) return [];
    return [
      `refs entry "${ref}" is only wildcards, so it would trust every ${refType} (any pipeline of the project could ` +
        `assume the role). ${fix}`,
    ];
  });
}

function idListProblems(prop: string, ids: string[] | undefined, pattern: RegExp, example: string): string[] {
  if (ids === undefined) return [];
  if (ids.length === 0) return [`${prop} is empty: leave it out to accept any network, or name at least one ID.`];
  return ids
    .filter((id) => !Token.isUnresolved(id) && !pattern.test(id))
    .map((id) => `${prop} entry "${id}" must be an ID such as ${example}.`);
}

/**
 * The provider's client IDs, when the provider was created in this app (`OidcProviderNative`, whose default child
 * is the `AWS::IAM::OIDCProvider` resource) and they are known at synth time; `undefined` for an imported provider.
 */
export function knownClientIds(provider: iam.IOidcProvider): string[] | undefined {
  const resource = provider.node.defaultChild;
  if (!(resource instanceof iam.CfnOIDCProvider)) return undefined;
  const list = resource.clientIdList;
  if (list === undefined || Token.isUnresolved(list) || list.some((id) => Token.isUnresolved(id))) return undefined;
  return list;
}
