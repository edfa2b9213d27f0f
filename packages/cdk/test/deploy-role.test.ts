import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, test } from 'vitest';
import { GitLabOidcDeployRole, GitLabOidcDeployRoleProps, GitLabRefType } from '../src';
import { newStack } from './helpers';

/** One role on a provider created in the same stack, whose client IDs list the role's audience. */
function deployRole(props: Omit<GitLabOidcDeployRoleProps, 'provider'>) {
  const { stack } = newStack();
  const host = props.gitlabHost ?? 'gitlab.com';
  const provider = new iam.OidcProviderNative(stack, 'GitLab', {
    url: `https://${host}`,
    clientIds: [props.audience ?? GitLabOidcDeployRole.defaultAudience(host, props.environment)],
  });
  const role = new GitLabOidcDeployRole(stack, 'Deploy', { provider, ...props });
  return { stack, role, provider };
}

function errorsOf(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findError('*', Match.anyValue())
    .map((m) => String(m.entry.data));
}

function trustStatement(template: Template) {
  const roles = Object.values(template.findResources('AWS::IAM::Role'));
  expect(roles).toHaveLength(1);
  return roles[0]?.Properties.AssumeRolePolicyDocument.Statement;
}

describe('GitLabOidcDeployRole', () => {
  test("trusts exactly one project and ref through the GitLab provider, for its environment's own audience", () => {
    const { stack } = deployRole({ projectPath: 'acme/platform/web', environment: 'production' });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    const statements = trustStatement(template);
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement.Effect).toBe('Allow');
    expect(JSON.stringify(statement.Principal)).toMatch(/^\{"Federated":\{"Ref":"GitLab[0-9A-F]+"\}\}$/);
    expect(statement.Condition).toEqual({
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com/deploy/production',
        'gitlab.com:sub': ['project_path:acme/platform/web:ref_type:branch:ref:main'],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      MaxSessionDuration: 3600,
      Description: 'GitLab CI deploys of acme/platform/web (branch main) to production',
    });
    // No permissions until granted.
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('tags, wildcard refs, a source VPC and endpoint, an explicit audience and a self-managed host', () => {
    const { stack } = deployRole({
      gitlabHost: 'gitlab.example.com',
      projectPath: 'acme/web',
      refs: ['v*'],
      refType: GitLabRefType.TAG,
      environment: 'staging',
      audience: 'sts.amazonaws.com/acme-web-staging',
      sourceVpcIds: ['vpc-0123456789abcdef0'],
      sourceVpcEndpointIds: ['vpce-0fedcba9876543210'],
      maxSessionDuration: Duration.hours(2),
    });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    const [statement] = trustStatement(template);
    expect(statement.Condition).toEqual({
      StringEquals: {
        'gitlab.example.com:aud': 'sts.amazonaws.com/acme-web-staging',
        'aws:SourceVpc': ['vpc-0123456789abcdef0'],
        'aws:SourceVpce': ['vpce-0fedcba9876543210'],
      },
      StringLike: { 'gitlab.example.com:sub': ['project_path:acme/web:ref_type:tag:ref:v*'] },
    });
    template.hasResourceProperties('AWS::IAM::Role', { MaxSessionDuration: 7200 });
  });

  test('grants go to the role', () => {
    const { stack, role } = deployRole({ projectPath: 'acme/web', environment: 'dev' });
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: ['*'] }),
    );
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('DeployRole') }],
    });
  });

  test('grantCdkDeploy allows exactly the CDK bootstrap roles of its own account and Region', () => {
    const { stack, role } = deployRole({ projectPath: 'acme/web', environment: 'production' });
    role.grantCdkDeploy();
    const arn = (kind: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/cdk-hnb659fds-${kind}-role-`,
        { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{
          Sid: 'AssumeCdkBootstrapRoles',
          Effect: 'Allow',
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(arn),
        }],
      },
    });
  });

  test('grantCdkDeploy refuses a malformed bootstrap qualifier', () => {
    const { stack, role } = deployRole({ projectPath: 'acme/web', environment: 'dev' });
    role.grantCdkDeploy('Not_Valid!');
    Annotations.fromStack(stack).hasError('*', Match.stringLikeRegexp('qualifier "Not_Valid!" must be the bootstrap qualifier'));
  });

  test('trusting a whole group, every ref or an https host is an error', () => {
    const { stack } = deployRole({
      gitlabHost: 'https://gitlab.com',
      projectPath: 'acme/*',
      refs: ['*'],
      environment: 'prod;',
      audience: 'https://gitlab.com/deploy/prod',
    });
    expect(errorsOf(stack)).toEqual([
      expect.stringMatching(/^gitlabHost "https:\/\/gitlab.com" must be the provider URL without https:\/\//),
      expect.stringMatching(/^projectPath "acme\/\*" must be a full project path/),
      expect.stringMatching(/^refs entry "\*" is only wildcards, so it would trust every branch/),
      expect.stringMatching(/^environment "prod;" must be a GitLab environment name/),
    ]);
  });
});

/** What IAM compares in a web-identity call: the token's claims and, through a VPC endpoint, the network keys. */
type RequestContext = Record<string, string>;
type Condition = Record<string, Record<string, string | string[]>>;

const globToRegExp = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/** IAM's StringEquals and StringLike over the keys these trust policies use; a key the request lacks fails. */
function allows(condition: Condition, request: RequestContext): boolean {
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = request[key];
      const values = Array.isArray(expected) ? expected : [expected];
      if (actual === undefined) return false;
      if (operator === 'StringEquals') return values.includes(actual);
      if (operator === 'StringLike') return values.some((value) => globToRegExp(value).test(actual));
      throw new Error(`the test does not evaluate ${operator}`);
    }),
  );
}

describe('GitLabOidcDeployRole: one audience per environment', () => {
  const PROD_VPC = 'vpc-0aaaaaaaaaaaaaaa1';
  const DEV_VPC = 'vpc-0bbbbbbbbbbbbbbb2';
  const main = 'project_path:acme/web:ref_type:branch:ref:main';

  function threeEnvironments() {
    const { stack } = newStack();
    const environments = ['dev', 'staging', 'production'];
    const provider = new iam.OidcProviderNative(stack, 'GitLab', {
      url: 'https://gitlab.com',
      clientIds: environments.map((name) => GitLabOidcDeployRole.defaultAudience('gitlab.com', name)),
    });
    const roles = Object.fromEntries(
      environments.map((name) => [
        name,
        new GitLabOidcDeployRole(stack, `Deploy ${name}`, {
          provider,
          projectPath: 'acme/web',
          environment: name,
          refs: name === 'dev' ? ['main', 'develop'] : ['main'],
          sourceVpcIds: name === 'production' ? [PROD_VPC] : undefined,
        }),
      ]),
    );
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>;
    const conditionOf = (name: string): Condition => {
      const id = stack.getLogicalId(roles[name]!.role.node.defaultChild as iam.CfnRole);
      return template[id]!.Properties.AssumeRolePolicyDocument.Statement[0].Condition;
    };
    /** The environments whose role a request may assume. */
    const assumable = (request: RequestContext) => environments.filter((name) => allows(conditionOf(name), request));
    return { template, conditionOf, assumable, roles };
  }

  test('each role trusts only its own audience, and the provider lists all three', () => {
    const { template, conditionOf, roles } = threeEnvironments();
    expect(Object.values(template).find((r) => r.Type === 'AWS::IAM::OIDCProvider')?.Properties.ClientIdList).toEqual([
      'https://gitlab.com/deploy/dev',
      'https://gitlab.com/deploy/staging',
      'https://gitlab.com/deploy/production',
    ]);
    for (const name of ['dev', 'staging', 'production']) {
      expect(conditionOf(name).StringEquals!['gitlab.com:aud'], name).toBe(`https://gitlab.com/deploy/${name}`);
      expect(roles[name]!.audience).toBe(`https://gitlab.com/deploy/${name}`);
    }
    expect(conditionOf('production').StringEquals!['aws:SourceVpc']).toEqual([PROD_VPC]);
  });

  test("a dev deploy job's token (same project, same ref) cannot assume staging's or production's role", () => {
    const { assumable } = threeEnvironments();
    const token = (name: string) => ({ 'gitlab.com:aud': `https://gitlab.com/deploy/${name}`, 'gitlab.com:sub': main });
    expect(assumable(token('dev'))).toEqual(['dev']);
    expect(assumable({ ...token('dev'), 'aws:SourceVpc': PROD_VPC })).toEqual(['dev']);
    expect(assumable(token('staging'))).toEqual(['staging']);
    // Production also needs the call to come through an STS endpoint in its own VPC.
    expect(assumable({ ...token('production'), 'aws:SourceVpc': PROD_VPC })).toEqual(['production']);
    expect(assumable({ ...token('production'), 'aws:SourceVpc': DEV_VPC })).toEqual([]);
    expect(assumable(token('production'))).toEqual([]);
    // A feature branch gets nothing, whatever audience it asks for.
    const feature = 'project_path:acme/web:ref_type:branch:ref:feature/x';
    expect(assumable({ 'gitlab.com:aud': 'https://gitlab.com/deploy/dev', 'gitlab.com:sub': feature })).toEqual([]);
  });

  test('two environments sharing one audience on one provider is an error naming both', () => {
    const { stack } = newStack();
    const provider = new iam.OidcProviderNative(stack, 'GitLab', { url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
    const shared = { provider, projectPath: 'acme/web', audience: 'https://gitlab.com' };
    new GitLabOidcDeployRole(stack, 'Dev', { ...shared, environment: 'dev' });
    new GitLabOidcDeployRole(stack, 'Prod', { ...shared, environment: 'production' });
    expect(errorsOf(stack)).toEqual([
      expect.stringMatching(
        /^audience "https:\/\/gitlab.com" is also trusted by Test\/Dev \(environment dev\): a token for one environment would assume the other's role\. Give each environment its own audience/,
      ),
    ]);
  });

  test("an audience missing from a provider created in the app is an error; an imported provider's is the user's to add", () => {
    const { stack } = newStack();
    const provider = new iam.OidcProviderNative(stack, 'GitLab', { url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
    new GitLabOidcDeployRole(stack, 'Prod', { provider, projectPath: 'acme/web', environment: 'production' });
    expect(errorsOf(stack)).toEqual([
      'audience "https://gitlab.com/deploy/production" is not one of the OIDC provider\'s client IDs (https://gitlab.com), ' +
        "so STS would reject every token: add it to the provider's clientIds.",
    ]);

    const imported = newStack();
    const arn = 'arn:aws:iam::111111111111:oidc-provider/gitlab.com';
    const existing = iam.OidcProviderNative.fromOidcProviderArn(imported.stack, 'GitLab', arn);
    new GitLabOidcDeployRole(imported.stack, 'Prod', { provider: existing, projectPath: 'acme/web', environment: 'production' });
    expect(errorsOf(imported.stack)).toEqual([]);
  });

  test.each(['*', '**', '*?', '?*', '?', '*/*', '/', '**/**', ' * '])('refs entry %j is refused', (ref) => {
    const { stack } = deployRole({ projectPath: 'acme/web', environment: 'production', refs: ['main', ref] });
    expect(errorsOf(stack)).toEqual([
      `refs entry "${ref}" is only wildcards, so it would trust every branch (any pipeline of the project could ` +
        'assume the role). Name the protected refs to trust, e.g. refs: ["main"], or a prefix such as "release/*".',
    ]);
  });

  test('refs with a fixed part are accepted; empty refs are refused', () => {
    const ok = deployRole({ projectPath: 'acme/web', environment: 'staging', refs: ['main', 'release/*', 'v?.*'] });
    expect(errorsOf(ok.stack)).toEqual([]);
    const empty = deployRole({ projectPath: 'acme/web', environment: 'dev', refs: [''] });
    expect(errorsOf(empty.stack)).toEqual([expect.stringMatching(/^refs entry "" is empty\. Name the protected refs/)]);
  });

  test('malformed VPC and endpoint IDs, empty lists and an audience with spaces are errors', () => {
    const { stack } = deployRole({
      projectPath: 'acme/web',
      environment: 'production',
      audience: 'my audience',
      sourceVpcIds: ['vpc-123', 'prod-vpc'],
      sourceVpcEndpointIds: [],
    });
    expect(errorsOf(stack)).toEqual([
      expect.stringMatching(/^audience "my audience" must be 1-255 characters without spaces/),
      'sourceVpcIds entry "vpc-123" must be an ID such as vpc-0123456789abcdef0.',
      'sourceVpcIds entry "prod-vpc" must be an ID such as vpc-0123456789abcdef0.',
      'sourceVpcEndpointIds is empty: leave it out to accept any network, or name at least one ID.',
    ]);
  });
});
