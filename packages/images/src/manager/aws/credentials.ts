import { readFile } from 'node:fs/promises';
import { MisconfiguredError } from '../exit-codes.js';
import type { AwsCredentials } from './sigv4.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** Where ECS serves a task role's credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is a path on it). */
export const ECS_CREDENTIALS_HOST = 'http://169.254.170.2';
/** Temporary credentials are fetched again this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const CREDENTIALS_TIMEOUT_MS = 5_000;

/**
 * AWS credentials as the SDK's default chain finds them in a container, in its order: `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), else the container credentials endpoint that ECS gives a task
 * with a role (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or `AWS_CONTAINER_CREDENTIALS_FULL_URI` with
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`). Temporary credentials are kept until shortly before they expire.
 */
export class CredentialSource {
  private cached: AwsCredentials | undefined;

  constructor(
    private readonly env: Environment,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** @throws Error saying where credentials were looked for, or why the endpoint's answer cannot be used */
  async get(): Promise<AwsCredentials> {
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = this.env;
    if (accessKeyId && secretAccessKey) {
      return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
    }
    const expiration = this.cached?.expiration;
    if (this.cached !== undefined && (expiration === undefined || expiration.getTime() - REFRESH_MARGIN_MS > this.clock().getTime())) {
      return this.cached;
    }
    this.cached = await this.fromContainerEndpoint();
    return this.cached;
  }

  private async fromContainerEndpoint(): Promise<AwsCredentials> {
    const relative = this.env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];
    const full = this.env['AWS_CONTAINER_CREDENTIALS_FULL_URI'];
    const url = relative ? `${ECS_CREDENTIALS_HOST}${relative}` : full;
    if (!url) {
      throw new MisconfiguredError(
        'no AWS credentials: neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor a container credentials endpoint ' +
          '(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which ECS sets for a task with a task role) is set: give the task a role',
      );
    }
    const headers: Record<string, string> = {};
    const authorization = await this.authorizationToken();
    if (!relative && authorization !== undefined) headers['authorization'] = authorization;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(CREDENTIALS_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`the container credentials endpoint answered HTTP ${response.status}`);
    const body = (await response.json()) as Record<string, unknown>;
    const { AccessKeyId, SecretAccessKey, Token, Expiration } = body;
    if (typeof AccessKeyId !== 'string' || typeof SecretAccessKey !== 'string') {
      throw new Error('the container credentials endpoint answered without AccessKeyId and SecretAccessKey');
    }
    return {
      accessKeyId: AccessKeyId,
      secretAccessKey: SecretAccessKey,
      ...(typeof Token === 'string' ? { sessionToken: Token } : {}),
      ...(typeof Expiration === 'string' ? { expiration: new Date(Expiration) } : {}),
    };
  }

  private async authorizationToken(): Promise<string | undefined> {
    const file = this.env['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'];
    if (file) return (await readFile(file, 'utf8')).trim();
    return this.env['AWS_CONTAINER_AUTHORIZATION_TOKEN'] || undefined;
  }
}
