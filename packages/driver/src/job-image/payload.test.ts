import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemFailure } from '../errors.js';
import { parseJobImageRequest, readJobImageRequest } from './payload.js';

/** A payload as gitlab-runner writes it (fields of common/spec/spec.go). */
const PAYLOAD = {
  id: 42,
  image: { name: '$REGISTRY/ruby:3.3', entrypoint: [''], executor_opts: { docker: { user: 1000, platform: 'linux/amd64' } } },
  services: [
    { name: 'postgres:16', alias: 'db,pg primary', variables: [{ key: 'POSTGRES_PASSWORD', value: 'pw', public: true }], ports: [{ number: 5432, protocol: 'tcp' }] },
    { name: 'redis:7', entrypoint: ['redis-server'], command: ['--save', ''] },
  ],
  variables: [
    { key: 'REGISTRY', value: 'registry.example.com', public: true, file: false, masked: false },
    { key: 'SECRET', value: 's3cr3t', public: false, masked: true },
  ],
};

describe('parseJobImageRequest', () => {
  it("reads the image, its options, the services and the variables, expanding names as gitlab-runner does", () => {
    const request = parseJobImageRequest(JSON.stringify(PAYLOAD), 'job.json');
    expect(request.image).toEqual({ name: 'registry.example.com/ruby:3.3', entrypoint: [''], user: '1000', platform: 'linux/amd64' });
    expect(request.services).toEqual([
      { name: 'postgres:16', alias: 'db,pg primary', variables: [{ key: 'POSTGRES_PASSWORD', value: 'pw', public: true, masked: false, file: false, raw: false }], ports: [{ number: 5432, protocol: 'tcp' }] },
      { name: 'redis:7', alias: '', entrypoint: ['redis-server'], command: ['--save', ''], variables: [], ports: [] },
    ]);
    expect(request.variables.map((variable) => [variable.key, variable.public, variable.masked])).toEqual([['REGISTRY', true, false], ['SECRET', false, true]]);
    expect(request.source).toBe('payload');
  });

  it('has no image when the job names none (no image object, or an empty name)', () => {
    expect(parseJobImageRequest('{"id":1}', 'job.json').image).toBeUndefined();
    expect(parseJobImageRequest('{"id":1,"image":{"name":""}}', 'job.json').image).toBeUndefined();
  });

  it.each([
    ['not json', /JOB_RESPONSE_FILE job\.json is not valid JSON/],
    ['[]', /JOB_RESPONSE_FILE job\.json: \(the document\): expected a JSON object, found an array/],
    ['{"image":"ruby"}', /job\.json: image: expected an object, found string/],
    ['{"image":{"name":"ruby","entrypoint":"sh"}}', /job\.json: image\.entrypoint: expected an array of strings, found string/],
    ['{"services":{}}', /job\.json: services: expected an array, found object/],
    ['{"services":[{"alias":"db"}]}', /job\.json: services\[0\]\.name: expected a service image name, found nothing/],
    ['{"services":[{"name":"pg","ports":[{"number":70000}]}]}', /job\.json: services\[0\]\.ports\[0\]\.number: expected a port from 1 to 65535, found number/],
    ['{"variables":[{"key":"A","value":"1","masked":"yes"}]}', /job\.json: variables\[0\]\.masked: expected true or false, found string/],
  ])('refuses %s, naming the file, the path and what it expected', (text, message) => {
    expect(() => parseJobImageRequest(text, 'job.json')).toThrow(SystemFailure);
    expect(() => parseJobImageRequest(text, 'job.json')).toThrow(message);
  });
});

describe('readJobImageRequest', () => {
  it('reads JOB_RESPONSE_FILE and ignores CUSTOM_ENV_CI_JOB_IMAGE, which job variables can set', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'payload-')), 'job.json');
    writeFileSync(file, JSON.stringify(PAYLOAD));
    const request = readJobImageRequest({ JOB_RESPONSE_FILE: file, CUSTOM_ENV_CI_JOB_IMAGE: 'evil:latest' });
    expect(request.image?.name).toBe('registry.example.com/ruby:3.3');
    expect(request.services).toHaveLength(2);
  });

  it('falls back to CUSTOM_ENV_CI_JOB_IMAGE without a payload (no services then)', () => {
    expect(readJobImageRequest({ CUSTOM_ENV_CI_JOB_IMAGE: 'node:20' })).toEqual({ image: { name: 'node:20' }, services: [], variables: [], source: 'environment' });
    expect(readJobImageRequest({}).image).toBeUndefined();
  });

  it('fails clearly when the payload file cannot be read', () => {
    expect(() => readJobImageRequest({ JOB_RESPONSE_FILE: '/nonexistent/job.json' })).toThrow(/JOB_RESPONSE_FILE \/nonexistent\/job\.json cannot be read \(ENOENT\)/);
  });
});
