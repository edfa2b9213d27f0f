import { MisconfiguredError } from '../exit-codes.js';
import { CredentialSource } from './credentials.js';
import { signatureV4Headers } from './sigv4.js';

type Environment = Readonly<Record<string, string | undefined>>;

const REQUEST_TIMEOUT_MS = 10_000;

/** A parameter's value as GetParameter returns it. */
export interface ParameterValue {
  readonly value: string;
  /** SSM's version number of the parameter, which grows with every PutParameter. */
  readonly version: number;
}

/** SSM answered with an error, or could not be reached. */
export class SsmRequestError extends Error {
  /** SSM's error code (e.g. `ParameterNotFound`, `AccessDeniedException`), or `NetworkError`. */
  public readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SsmRequestError';
    this.code = code;
  }
}

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
    const url = endpointFor(region, this.env);
    const body = JSON.stringify({ Name: name });
    const headers = signatureV4Headers(
      { method: 'POST', url, body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' } },
      { region, service: 'ssm', credentials: await this.credentials.get(), now: new Date() },
    );
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new SsmRequestError('NetworkError', `cannot reach SSM at ${url.origin}: ${messageOf(error)}`, { cause: error });
    }
    const answer = answerOf(await response.text());
    if (!response.ok) throw errorOf(response, answer);
    return parameterOf(name, answer);
  }
}

function messageOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message;
}

function regionFor(name: string, env: Environment): string {
  const fromArn = /^arn:[^:]+:ssm:([^:]+):/.exec(name)?.[1];
  const region = fromArn || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || env['REGION'];
  if (!region) throw new MisconfiguredError(`no AWS Region for the SSM parameter ${name}: set AWS_REGION (ECS sets it on Fargate) or REGION, or name the parameter by its ARN`);
  return region;
}

function endpointFor(region: string, env: Environment): URL {
  const configured = env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true' ? undefined : env['AWS_ENDPOINT_URL_SSM'] || env['AWS_ENDPOINT_URL'];
  return new URL(configured || `https://ssm.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`);
}

/** The answer's JSON; an XML error (as some front ends give) becomes `{ __type, message }` from its Code and Message. */
function answerOf(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
    return { ...(code === undefined ? {} : { __type: code }), ...(message === undefined ? {} : { message }) };
  }
}

function errorOf(response: Response, answer: Record<string, unknown>): SsmRequestError {
  const type = response.headers.get('x-amzn-errortype') ?? (typeof answer['__type'] === 'string' ? answer['__type'] : `HTTP${response.status}`);
  const code = type.replace(/^.*#/, '').replace(/:.*$/, '');
  const detail = answer['message'] ?? answer['Message'];
  return new SsmRequestError(code, `SSM answered ${code} (HTTP ${response.status})${typeof detail === 'string' ? `: ${detail}` : ''}`);
}

function parameterOf(name: string, answer: Record<string, unknown>): ParameterValue {
  const parameter = answer['Parameter'] as Record<string, unknown> | undefined;
  const value = parameter?.['Value'];
  const version = parameter?.['Version'];
  if (typeof value !== 'string' || typeof version !== 'number') {
    throw new SsmRequestError('InvalidResponse', `SSM answered GetParameter for ${name} without a Value and a Version`);
  }
  if (parameter?.['Type'] !== undefined && parameter['Type'] !== 'String') {
    throw new SsmRequestError(
      'UnsupportedParameterType',
      `the SSM parameter ${name} is a ${String(parameter['Type'])}: the manager's settings are not secret, make it a String parameter holding a JSON object`,
    );
  }
  return { value, version };
}
