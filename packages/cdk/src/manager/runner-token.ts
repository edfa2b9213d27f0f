import { Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { looksLikeGitLabToken } from '../validation/secret-values';

/**
 * Where the runner manager reads its GitLab runner authentication token (`glrt-...`).
 *
 * The token is always handed to the manager container as an ECS secret (`RUNNER_TOKEN`): ECS reads it when the task
 * starts, so the value never appears in the CloudFormation template, the task definition or RunTask overrides.
 * There is deliberately no way to pass the token as a string.
 */
export abstract class RunnerToken {
  /**
   * A Secrets Manager secret holding the token, either as the whole secret string or as one JSON field.
   *
   * @param jsonField JSON key inside the secret
   * @default - the whole secret string is the token
   */
  public static fromSecretsManager(secret: secretsmanager.ISecret, jsonField?: string): RunnerToken {
    return new SecretsManagerRunnerToken(secret, jsonField);
  }

  /**
   * An SSM SecureString parameter holding the token, by name (e.g. `/gitlab/runners/dev/token`).
   *
   * Create it outside CloudFormation (`aws ssm put-parameter --type SecureString ...`): CloudFormation cannot
   * create SecureString parameters.
   *
   * @param encryptionKey the KMS key the parameter is encrypted with, when it is not the AWS managed `aws/ssm` key
   * @default - the AWS managed key
   */
  public static fromSsmSecureString(parameterName: string, encryptionKey?: kms.IKey): RunnerToken {
    return new SsmRunnerToken(parameterName, encryptionKey);
  }

  /**
   * The ECS secret for the manager container. ECS grants the task's execution role read access when the secret is
   * added to a container.
   */
  public abstract bind(scope: Construct): ecs.Secret;

  /**
   * Configuration mistakes that would put the token's value into a template, or that show a value where a
   * reference was expected. Reported as synth-time errors.
   */
  public abstract problems(): string[];
}

class SecretsManagerRunnerToken extends RunnerToken {
  constructor(
    private readonly secret: secretsmanager.ISecret,
    private readonly jsonField?: string,
  ) {
    super();
  }

  public bind(_scope: Construct): ecs.Secret {
    return ecs.Secret.fromSecretsManager(this.secret, this.jsonField);
  }

  public problems(): string[] {
    const problems: string[] = [];
    const name = this.secret.secretName;
    if (!Token.isUnresolved(name) && looksLikeGitLabToken(name)) {
      problems.push(
        'RunnerToken.fromSecretsManager: the secret name looks like a runner token value. ' +
          'Store the token in a secret and reference the secret (by name or ARN), never the token itself.',
      );
    }
    // A secret created in this app from a literal has its value in the template for anyone who can read it.
    const cfn = this.secret.node.defaultChild;
    if (cfn instanceof secretsmanager.CfnSecret && cfn.secretString !== undefined) {
      const resolved: unknown = Stack.of(cfn).resolve(cfn.secretString);
      if (typeof resolved === 'string' && !resolved.startsWith('{{resolve:')) {
        problems.push(
          `RunnerToken.fromSecretsManager: secret ${this.secret.node.path} is created from a plain-text value, which is ` +
            'written into the CloudFormation template. Create the secret without a value (or outside this app) and ' +
            'set the token with `aws secretsmanager put-secret-value`.',
        );
      }
    }
    if (this.jsonField !== undefined && this.jsonField.trim() === '') {
      problems.push('RunnerToken.fromSecretsManager: jsonField is empty; omit it to use the whole secret string.');
    }
    return problems;
  }
}

class SsmRunnerToken extends RunnerToken {
  constructor(
    private readonly parameterName: string,
    private readonly encryptionKey?: kms.IKey,
  ) {
    super();
  }

  public bind(scope: Construct): ecs.Secret {
    // Referenced, never resolved: ECS fetches and decrypts the value when the task starts.
    const parameter = ssm.StringParameter.fromSecureStringParameterAttributes(scope, 'RunnerTokenParameter', {
      parameterName: this.parameterName,
      encryptionKey: this.encryptionKey,
    });
    return ecs.Secret.fromSsmParameter(parameter);
  }

  public problems(): string[] {
    const name = this.parameterName;
    if (Token.isUnresolved(name)) return [];
    if (looksLikeGitLabToken(name)) {
      return [
        'RunnerToken.fromSsmSecureString: the parameter name looks like a runner token value. Put the token in an ' +
          'SSM SecureString parameter and pass the parameter name (e.g. /gitlab/runners/dev/token).',
      ];
    }
    if (!/^\/?[a-zA-Z0-9_.\-/]{1,2048}$/.test(name) || name.startsWith('arn:')) {
      return [
        `RunnerToken.fromSsmSecureString: "${name}" is not an SSM parameter name (letters, digits, _ . - /; ` +
          'a leading / for hierarchical names; not an ARN).',
      ];
    }
    return [];
  }
}
