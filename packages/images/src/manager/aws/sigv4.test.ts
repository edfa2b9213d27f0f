import { describe, expect, it } from 'vitest';
import { signatureV4Headers } from './sigv4.js';

describe('signatureV4Headers', () => {
  // The worked example of AWS's "Create a signed AWS API request" guide (IAM ListUsers, 2015-08-30T12:36:00Z):
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html and the
  // Signature Version 4 test suite's "get-vanilla-query" shape.
  const example = {
    method: 'GET',
    url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: '',
  };
  const scope = {
    region: 'us-east-1',
    service: 'iam',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    now: new Date('2015-08-30T12:36:00Z'),
  };

  it("matches AWS's published signature for its worked example", () => {
    const headers = signatureV4Headers(example, scope);
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers['authorization']).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });

  it('signs and sends the session token of temporary credentials', () => {
    const headers = signatureV4Headers(example, { ...scope, credentials: { ...scope.credentials, sessionToken: 'token-1' } });
    expect(headers['x-amz-security-token']).toBe('token-1');
    expect(headers['authorization']).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,');
    expect(headers['authorization']).not.toContain('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });
});
