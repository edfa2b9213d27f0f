import type { CredentialSource } from './credentials.js';
import { signatureV4Headers } from './sigv4.js';

type Environment = Readonly<Record<string, string | undefined>>;

const REQUEST_TIMEOUT_MS = 10_000;

/** An AWS service answered with an error, or could not be reached. */
export class AwsRequestError extends Error {
  /** The service's error code (e.g. `ParameterNotFound`, `AccessDeniedException`), or `NetworkError`. */
  public readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsRequestError';
    this.code = code;
  }
}

/** A service spoken to with the AWS JSON 1.1 protocol. */
export interface JsonService {
  /** Its name in messages, e.g. `SSM`. */
  readonly title: string;
  /** Its signing name and endpoint prefix, e.g. `ssm`. */
  readonly name: string;
  /** Its `X-Amz-Target` prefix, e.g. `AmazonSSM`. */
  readonly targetPrefix: string;
}

/** One call: the action, its input, the Region, and where its credentials and endpoint come from. */
export interface JsonCall {
  readonly action: string;
  readonly input: unknown;
  readonly region: string;
  readonly env: Environment;
  readonly credentials: CredentialSource;
}

/**
 * Calls one action of an AWS JSON 1.1 service, signed with Signature Version 4 by Node's own crypto (no AWS SDK in the
 * image's helper). The endpoint is `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else the service's regional
 * endpoint, as the AWS SDKs choose it.
 *
 * @returns the answer's JSON object
 * @throws AwsRequestError when the service refuses the request or cannot be reached
 */
export async function callJsonService(service: JsonService, call: JsonCall): Promise<Record<string, unknown>> {
  const url = endpointFor(service, call.region, call.env);
  const body = JSON.stringify(call.input);
  const target = `${service.targetPrefix}.${call.action}`;
  const headers = signatureV4Headers(
    { method: 'POST', url, body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target } },
    { region: call.region, service: service.name, credentials: await call.credentials.get(), now: new Date() },
  );
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new AwsRequestError('NetworkError', `cannot reach ${service.title} at ${url.origin}: ${messageOf(error)}`, { cause: error });
  }
  const answer = answerOf(await response.text());
  if (!response.ok) throw errorOf(service, response, answer);
  return answer;
}

function messageOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${(error as Error).message} (${cause.message})` : (error as Error).message;
}

function endpointFor(service: JsonService, region: string, env: Environment): URL {
  const configured =
    env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true' ? undefined : env[`AWS_ENDPOINT_URL_${service.name.toUpperCase()}`] || env['AWS_ENDPOINT_URL'];
  return new URL(configured || `https://${service.name}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`);
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

function errorOf(service: JsonService, response: Response, answer: Record<string, unknown>): AwsRequestError {
  const type = response.headers.get('x-amzn-errortype') ?? (typeof answer['__type'] === 'string' ? answer['__type'] : `HTTP${response.status}`);
  const code = type.replace(/^.*#/, '').replace(/:.*$/, '');
  const detail = answer['message'] ?? answer['Message'];
  return new AwsRequestError(code, `${service.title} answered ${code} (HTTP ${response.status})${typeof detail === 'string' ? `: ${detail}` : ''}`);
}
