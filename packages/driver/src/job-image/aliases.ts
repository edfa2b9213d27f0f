import { SystemFailure } from '../errors.js';
import type { JobService } from './payload.js';

/**
 * Host names of a job's services, as gitlab-runner gives them
 * (https://github.com/gitlabhq/gitlab-runner/blob/main/helpers/container/services/services.go `SplitNameAndVersion`,
 * and the Kubernetes executor's https://github.com/gitlabhq/gitlab-runner/blob/main/executors/kubernetes/host_aliases.go):
 * the image's path without tag, digest or registry port, with `/` → `__` and `/` → `-` (`tutum/wordpress:latest` →
 * `tutum__wordpress`, `tutum-wordpress`), plus each `alias:` ("a,b" or "a b", `Image.Aliases` in common/spec/spec.go).
 */

// distribution/reference's grammar (github.com/distribution/reference regexp.go): name, then `:tag`, then `@digest`.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** gitlab-runner's `referenceRegexpNoPort`: splits `host:port/path` into host, port and path. */
const NO_PORT = /^(.*?)(|:[0-9]+)(|\/.*)$/;

/** RFC 1123 subdomain, as Kubernetes validates host aliases (`IsDNS1123Subdomain`): lowercase, at most 253. */
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** True for a name Kubernetes accepts as a host alias. */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/** True for an image reference Docker (and ECS) can pull: `name[:tag][@digest]`, lowercase path, optional registry. */
export function isImageReference(image: string): boolean {
  return image.length <= 1024 && REFERENCE.test(image);
}

/** gitlab-runner's default names of a service image; none when the name is not a valid image reference. */
export function defaultServiceNames(image: string): string[] {
  const match = REFERENCE.exec(image);
  if (match === null) return [];
  const parts = NO_PORT.exec(match[1] as string) as RegExpExecArray;
  const service = `${parts[1] as string}${parts[3] as string}`;
  const underscored = service.replaceAll('/', '__');
  const dashed = service.replaceAll('/', '-');
  return underscored === dashed ? [underscored] : [underscored, dashed];
}

/** The `alias:` of a service split as gitlab-runner does (`strings.Fields` after `,` → space). */
export function userAliases(alias: string): string[] {
  return alias.replaceAll(',', ' ').split(/\s+/u).filter((part) => part !== '');
}

/** A default name `/etc/hosts` can carry: RFC 1123 plus `_`, as the Docker executor's network aliases allow (`tutum__wordpress`). */
const HOSTS_FILE_NAME = /^[a-z0-9](?:[-a-z0-9_.]*[a-z0-9])?$/;

/**
 * Every host name the job's services answer to on the task's loopback address, in order, each once: both default
 * names, as the Docker executor gives them (the Kubernetes executor drops the `__` one, which is not RFC 1123), and
 * each `alias:`, which must be RFC 1123 as the Kubernetes executor requires.
 * @throws SystemFailure naming the alias and the service.
 */
export function serviceHostnames(services: readonly JobService[]): string[] {
  const names = new Set<string>();
  for (const service of services) {
    for (const name of defaultServiceNames(service.name)) if (name.length <= 253 && HOSTS_FILE_NAME.test(name)) names.add(name);
    for (const alias of userAliases(service.alias)) {
      if (!isDns1123Subdomain(alias)) {
        throw new SystemFailure(
          `services: alias ${JSON.stringify(alias)} of ${JSON.stringify(service.name)} is not a valid host name: use lowercase letters, ` +
            'digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters (RFC 1123)',
        );
      }
      names.add(alias);
    }
  }
  return [...names];
}
