import type { JobService } from './payload.js';

/**
 * Ports of well-known service images, for waiting on a service whose `ports:` say nothing: gitlab-runner's Docker
 * executor waits on the ports the image EXPOSEs, which ECS does not report, so the driver knows these by name. Keyed
 * by the image's last path component up to its first `-` (`postgres`, `postgres-fixture`, `bitnami/redis` → `redis`).
 */
export const KNOWN_SERVICE_PORTS: Readonly<Record<string, readonly number[]>> = {
  postgres: [5432],
  postgis: [5432],
  mysql: [3306],
  mariadb: [3306],
  redis: [6379],
  valkey: [6379],
  memcached: [11211],
  mongo: [27017],
  rabbitmq: [5672],
  elasticsearch: [9200],
  opensearch: [9200],
  minio: [9000],
  nginx: [80],
  httpd: [80],
};

/** The image's last path component without tag or digest (`registry:5000/a/postgres:16@sha256:…` → `postgres`). */
function baseName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const last = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return last.split(':')[0] ?? last;
}

/** The ports to wait for: the service's own `ports:`, else the known ports of its image, else none. */
export function servicePorts(service: Pick<JobService, 'name' | 'ports'>): readonly number[] {
  if (service.ports.length > 0) return service.ports.map((port) => port.number);
  const name = baseName(service.name);
  return KNOWN_SERVICE_PORTS[name] ?? KNOWN_SERVICE_PORTS[name.split('-')[0] ?? name] ?? [];
}
