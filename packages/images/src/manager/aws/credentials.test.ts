import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MisconfiguredError } from '../exit-codes.js';
import { CredentialSource } from './credentials.js';

describe('CredentialSource', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  /** Plays a container credentials endpoint; records the Authorization header of each request. */
  async function endpoint(expiration: string): Promise<{ url: string; authorizations: (string | undefined)[] }> {
    const authorizations: (string | undefined)[] = [];
    let count = 0;
    server = createServer((request, response) => {
      authorizations.push(request.headers.authorization);
      count++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ AccessKeyId: `ASIA${count}`, SecretAccessKey: 'secret', Token: `session-${count}`, Expiration: expiration }),
      );
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`, authorizations };
  }

  it('takes keys from the environment first', async () => {
    const source = new CredentialSource({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9' });
    expect(await source.get()).toEqual({ accessKeyId: 'AKIA1', secretAccessKey: 's' });
  });

  it("uses the container endpoint's temporary credentials until shortly before they expire", async () => {
    const now = { value: new Date('2026-01-01T00:00:00Z') };
    const { url, authorizations } = await endpoint('2026-01-01T01:00:00Z');
    const source = new CredentialSource({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'auth-1' }, () => now.value);
    expect(await source.get()).toMatchObject({ accessKeyId: 'ASIA1', sessionToken: 'session-1' });
    now.value = new Date('2026-01-01T00:50:00Z');
    expect((await source.get()).accessKeyId).toBe('ASIA1');
    now.value = new Date('2026-01-01T00:56:00Z');
    expect((await source.get()).accessKeyId).toBe('ASIA2');
    expect(authorizations).toEqual(['auth-1', 'auth-1']);
  });

  it('says how to give the task credentials when there are none', async () => {
    await expect(new CredentialSource({}).get()).rejects.toThrow(MisconfiguredError);
    await expect(new CredentialSource({}).get()).rejects.toThrow(/no AWS credentials: .*give the task a role/);
  });
});
