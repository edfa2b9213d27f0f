import { describe, expect, it } from 'vitest';
import { servicePorts } from './service-ports.js';

describe('servicePorts', () => {
  it('prefers the service\'s own ports', () => {
    expect(servicePorts({ name: 'postgres:16', ports: [{ number: 6000 }] })).toEqual([6000]);
  });

  it('knows well-known images by their last path component, tag, digest and registry port aside', () => {
    expect(servicePorts({ name: 'registry.example.com:5000/lib/postgres:16@sha256:' + 'a'.repeat(64), ports: [] })).toEqual([5432]);
    expect(servicePorts({ name: 'bitnami/redis', ports: [] })).toEqual([6379]);
    expect(servicePorts({ name: 'gitlab-fargate-test/postgres-fixture:bookworm', ports: [] })).toEqual([5432]);
  });

  it('has none for an unknown image', () => {
    expect(servicePorts({ name: 'example/thing:1', ports: [] })).toEqual([]);
  });
});
