import * as fs from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, test } from 'vitest';
import { GitLabOidcDeployRole, JobCapacity, RunnerEnvironment, RunnerMonitoring, RunnerToken, RunnerVpcEndpoints } from '../src';
import { newStack, validProps } from './helpers';

/**
 * Synthesizes `app` with the AwsSolutions pack and returns the unacknowledged findings (empty when synthesis
 * passes). cdk-nag 3 is a policy-validation plugin: a finding fails synthesis and is written to a report file.
 */
function awsSolutionsFindings(app: App): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
    return [];
  } catch (error) {
    const report = /found in: (\S+\.json)/.exec(String(error))?.[1];
    if (report === undefined || !fs.existsSync(report)) throw error;
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    const findings: string[] = [];
    for (const plugin of json.pluginReports ?? []) {
      for (const violation of plugin.violations ?? []) {
        for (const resource of violation.violatingResources ?? violation.violatingConstructs ?? []) {
          findings.push(`${violation.ruleName}: ${resource.resourceLogicalId ?? resource.constructPath}`);
        }
        if ((violation.violatingResources ?? violation.violatingConstructs ?? []).length === 0) {
          findings.push(`${violation.ruleName}`);
        }
      }
    }
    return findings.length > 0 ? findings : [String(error)];
  }
}

describe('cdk-nag AwsSolutions', () => {
  test('a full environment with every option, endpoints and a deploy role has no unacknowledged finding', () => {
    const { app, stack, vpc } = newStack();
    const dev = validProps(stack, vpc);
    new RunnerEnvironment(stack, 'Dev', {
      ...dev,
      // A warm pool: the keeper container, its shared volume and the claim's retag permission.
      manager: { ...dev.manager, pools: [{ name: 'warm', idleCount: 1 }] },
      assignPublicIpToJobs: true,
      connectViaPublicIp: true,
      capacity: JobCapacity.SPOT,
    });
    new RunnerEnvironment(stack, 'Prod', {
      ...validProps(stack, vpc, 'production'),
      runnerToken: RunnerToken.fromSsmSecureString('/gitlab/production/runner-token'),
      jobSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, ssm: true, sts: true });
    const provider = new iam.OidcProviderNative(stack, 'GitLab', {
      url: 'https://gitlab.com',
      clientIds: [GitLabOidcDeployRole.defaultAudience('gitlab.com', 'production')],
    });
    new GitLabOidcDeployRole(stack, 'Deploy', {
      provider,
      projectPath: 'acme/web',
      environment: 'production',
      sourceVpcIds: [vpc.vpcId],
    });
    expect(awsSolutionsFindings(app)).toEqual([]);
  });

  test('an environment with its monitoring (dashboard, alarms, topic, metric filters) has no unacknowledged finding', () => {
    const { app, stack, vpc } = newStack();
    const environment = new RunnerEnvironment(stack, 'Dev', validProps(stack, vpc));
    new RunnerMonitoring(stack, 'Monitoring', { environment, alarmEmails: ['platform@example.com'] });
    expect(awsSolutionsFindings(app)).toEqual([]);
  });

  test('the check is live: an unacknowledged finding fails synthesis', () => {
    const { app, stack, vpc } = newStack();
    const open = new ec2.SecurityGroup(stack, 'Open', { vpc });
    open.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(awsSolutionsFindings(app)).toContain('AwsSolutions-EC23: Test/Open/Resource');
  });
});
