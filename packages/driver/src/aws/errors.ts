/** How an AWS SDK error should be handled. */
export type AwsErrorKind = 'throttling' | 'transient' | 'permanent';

interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: { readonly throttling?: boolean };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);

const TRANSIENT = new Set([
  'ServerException',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Classifies an SDK error: throttling and transient ones are worth retrying, the rest are not. */
export function classifyAwsError(error: unknown): AwsErrorKind {
  const e = (error ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (e.$retryable?.throttling || status === 429 || THROTTLING.has(e.name ?? '')) return 'throttling';
  if ((status !== undefined && status >= 500) || TRANSIENT.has(e.name ?? '') || TRANSIENT.has(e.code ?? '')) return 'transient';
  return 'permanent';
}

/** `Name: message` of an SDK error, the form people search for. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) {
    return error.name && error.name !== 'Error' && !error.message.startsWith(error.name) ? `${error.name}: ${error.message}` : error.message;
  }
  return String(error);
}

/** Exponential backoff with full jitter: a random pause in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
