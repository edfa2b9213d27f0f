import { AwsError } from './aws-error.js';

/** The `X-Amz-Target` prefix of every ECS operation (the model's `targetPrefix`). */
export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The wire answer for one request: status, headers and body text. */
export interface WireResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Extracts the operation name from `X-Amz-Target`, or throws `UnknownOperationException` as AWS does. */
export function operationFromTarget(target: string | undefined): string {
  const prefix = `${ECS_TARGET_PREFIX}.`;
  if (!target) {
    throw new AwsError('UnknownOperationException', 'Missing X-Amz-Target header: expected AmazonEC2ContainerServiceV20141113.<Operation>.');
  }
  if (!target.startsWith(prefix) || target.length === prefix.length) {
    throw new AwsError('UnknownOperationException', `Unknown operation ${target}.`);
  }
  return target.slice(prefix.length);
}

/** Parses an awsJson1_1 body; an empty body is `{}` as the SDK sends for input-less operations. */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AwsError('SerializationException', `Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsError('SerializationException', 'Request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** A 200 answer in awsJson1_1. `undefined` members are dropped by JSON.stringify, as the SDK expects. */
export function jsonSuccess(body: unknown, requestId: string): WireResponse {
  return {
    statusCode: 200,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-RequestId': requestId },
    body: JSON.stringify(body ?? {}),
  };
}

/** An error in the envelope real ECS sends: `{"__type","message"}` plus the `x-amzn-ErrorType` header. */
export function jsonError(error: AwsError, requestId: string): WireResponse {
  return {
    statusCode: error.statusCode,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': error.code },
    body: JSON.stringify({ __type: error.code, message: error.message, ...error.extra }),
  };
}

/** Epoch seconds with millisecond fraction: the only timestamp form the v3 SDK parses from awsJson. */
export function epochSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}
