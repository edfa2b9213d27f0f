import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_MISSING, putParameter, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../../test/moto.js';
import { signatureV4Headers } from './sigv4.js';
import { SsmParameterReader, SsmRequestError } from './ssm.js';

const env = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string } = TEST_CREDENTIALS) => ({
  AWS_ENDPOINT_URL_SSM: endpoint,
  AWS_REGION: TEST_REGION,
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
});

describe.skipIf(MOTO_MISSING !== undefined)('SsmParameterReader against moto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it("reads a String parameter's value and version", async () => {
    await putParameter(moto.endpoint, '/test/reader/a', '{"CONCURRENT":"2"}');
    const version = await putParameter(moto.endpoint, '/test/reader/a', '{"CONCURRENT":"3"}');
    expect(await new SsmParameterReader(env(moto.endpoint)).get('/test/reader/a')).toEqual({ value: '{"CONCURRENT":"3"}', version });
  });

  it("names SSM's error code for a parameter that does not exist", async () => {
    const error = await new SsmParameterReader(env(moto.endpoint)).get('/test/reader/missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsmRequestError);
    expect((error as SsmRequestError).code).toBe('ParameterNotFound');
  });

  it('refuses a SecureString: the settings are not secret and must stay readable without kms:Decrypt', async () => {
    await putParameter(moto.endpoint, '/test/reader/secure', '{}', 'SecureString');
    const error = await new SsmParameterReader(env(moto.endpoint)).get('/test/reader/secure').catch((e: unknown) => e);
    expect((error as SsmRequestError).code).toBe('UnsupportedParameterType');
    expect((error as Error).message).toContain('make it a String parameter');
  });

  it('says SSM cannot be reached, naming the endpoint', async () => {
    const error = await new SsmParameterReader(env('http://127.0.0.1:9')).get('/x').catch((e: unknown) => e);
    expect((error as SsmRequestError).code).toBe('NetworkError');
    expect((error as Error).message).toContain('cannot reach SSM at http://127.0.0.1:9');
  });

  it('refuses to guess a Region', async () => {
    const { AWS_REGION: _none, ...withoutRegion } = env(moto.endpoint);
    await expect(new SsmParameterReader(withoutRegion).get('/x')).rejects.toThrow(/no AWS Region for the SSM parameter \/x/);
  });
});

/** IAM's query protocol, just enough to make a user with a key and a policy in moto. */
async function iam(endpoint: string, parameters: Record<string, string>): Promise<string> {
  const url = new URL(`${endpoint}/`);
  const body = new URLSearchParams({ ...parameters, Version: '2010-05-08' }).toString();
  const headers = signatureV4Headers(
    { method: 'POST', url, body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } },
    { region: 'us-east-1', service: 'iam', credentials: TEST_CREDENTIALS, now: new Date() },
  );
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${parameters['Action']}: HTTP ${response.status} ${text}`);
  return text;
}

describe.skipIf(MOTO_MISSING !== undefined)('SsmParameterReader against moto checking signatures', () => {
  let moto: Moto;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  beforeAll(async () => {
    // moto checks every request's signature and the caller's IAM policies after the first four (the set-up below).
    moto = await startMoto({ INITIAL_NO_AUTH_ACTION_COUNT: '4' });
    await iam(moto.endpoint, { Action: 'CreateUser', UserName: 'manager' });
    const key = await iam(moto.endpoint, { Action: 'CreateAccessKey', UserName: 'manager' });
    credentials = {
      accessKeyId: /<AccessKeyId>([^<]+)</.exec(key)?.[1] ?? '',
      secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(key)?.[1] ?? '',
    };
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }] });
    await iam(moto.endpoint, { Action: 'PutUserPolicy', UserName: 'manager', PolicyName: 'read', PolicyDocument: policy });
    await putParameter(moto.endpoint, '/test/signed', '{"CONCURRENT":"4"}');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('is let in with a correct Signature Version 4, and refused with a wrong secret', async () => {
    expect(credentials.accessKeyId).toMatch(/^AKIA/);
    expect((await new SsmParameterReader(env(moto.endpoint, credentials)).get('/test/signed')).value).toBe('{"CONCURRENT":"4"}');
    const wrong = await new SsmParameterReader(env(moto.endpoint, { ...credentials, secretAccessKey: 'not-the-secret' }))
      .get('/test/signed')
      .catch((e: unknown) => e);
    expect((wrong as SsmRequestError).code).toMatch(/SignatureDoesNotMatch/);
  });
});
