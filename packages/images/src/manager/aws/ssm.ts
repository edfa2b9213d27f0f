import { MisconfiguredError } from '../exit-codes.js';
import { CredentialSource } from './credentials.js';
import { AwsRequestError, callJsonService, type JsonService } from './json-protocol.js';

type Environment = Readonly<Record<string, string | undefined>>;

const SSM: JsonService = { title: 'SSM', name: 'ssm', targetPrefix: 'AmazonSSM' };

/** A parameter's value as GetParameter returns it. */
export interface ParameterValue {
  readonly value: string;
  /** SSM's version number of the parameter, which grows with every PutParameter. */
  readonly version: number;
}

/** SSM answered with an error, or could not be reached (`code` is SSM's error code, or `NetworkError`). */
export { AwsRequestError as SsmRequestError };

/**
 * Reads one SSM parameter with GetParameter, signed with Signature Version 4 by Node's own crypto (no AWS SDK in the
 * image's helper). The region is the parameter ARN's, else `AWS_REGION`, `AWS_DEFAULT_REGION` or the manager's
 * `REGION`; the endpoint is `AWS_ENDPOINT_URL_SSM`, else `AWS_ENDPOINT_URL`, else SSM's regional endpoint, as the AWS
 * SDKs choose it.
 */
export class SsmParameterReader {
  private readonly credentials: CredentialSource;

  constructor(
    private readonly env: Environment,
    credentials?: CredentialSource,
  ) {
    this.credentials = credentials ?? new CredentialSource(env);
  }

  /** @throws SsmRequestError when SSM refuses the request or cannot be reached; MisconfiguredError when no region is known */
  async get(name: string): Promise<ParameterValue> {
    const region = regionFor(name, this.env);
    const answer = await callJsonService(SSM, { action: 'GetParameter', input: { Name: name }, region, env: this.env, credentials: this.credentials });
    return parameterOf(name, answer);
  }
}

function regionFor(name: string, env: Environment): string {
  const fromArn = /^arn:[^:]+:ssm:([^:]+):/.exec(name)?.[1];
  const region = fromArn || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || env['REGION'];
  if (!region) throw new MisconfiguredError(`no AWS Region for the SSM parameter ${name}: set AWS_REGION (ECS sets it on Fargate) or REGION, or name the parameter by its ARN`);
  return region;
}

function parameterOf(name: string, answer: Record<string, unknown>): ParameterValue {
  const parameter = answer['Parameter'] as Record<string, unknown> | undefined;
  const value = parameter?.['Value'];
  const version = parameter?.['Version'];
  if (typeof value !== 'string' || typeof version !== 'number') {
    throw new AwsRequestError('InvalidResponse', `SSM answered GetParameter for ${name} without a Value and a Version`);
  }
  if (parameter?.['Type'] !== undefined && parameter['Type'] !== 'String') {
    throw new AwsRequestError(
      'UnsupportedParameterType',
      `the SSM parameter ${name} is a ${String(parameter['Type'])}: the manager's settings are not secret, make it a String parameter holding a JSON object`,
    );
  }
  return { value, version };
}
