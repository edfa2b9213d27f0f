import { isMap, isScalar, isSeq, type Node } from 'yaml';

/**
 * A job's `image:` and `services:` as `.gitlab-ci.yml` writes them, and as gitlab-runner's job payload carries them
 * (`common/spec.go`, https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/common/spec.go: `Image{name, alias,
 * command, entrypoint, ports, variables, pull_policy, executor_opts{docker{platform, user}}}`, `Services []Image`).
 */

/** `image:`. */
export interface JobImageSpec {
  readonly name: string;
  readonly entrypoint?: readonly string[];
  /** `docker: user:` */
  readonly user?: string;
  /** `docker: platform:` */
  readonly platform?: string;
}

/** One entry of `services:`. */
export interface JobServiceSpec {
  readonly name: string;
  readonly alias?: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly variables?: Readonly<Record<string, string>>;
}

/** Reports a problem at a node (`file:line:col: …`). */
export type Problem = (node: unknown, message: string) => void;

function text(node: unknown): string | undefined {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined;
}

function stringList(node: unknown, what: string, problem: Problem): string[] | undefined {
  if (node === undefined) return undefined;
  const single = text(node);
  if (single !== undefined) return [single];
  if (!isSeq(node) || node.items.some((item) => text(item) === undefined)) {
    problem(node, `${what} must be a string or a list of strings`);
    return undefined;
  }
  return node.items.map((item) => text(item) as string);
}

function checkKeys(node: Node, allowed: readonly string[], what: string, problem: Problem): void {
  if (!isMap(node)) return;
  for (const pair of node.items) {
    const key = text(pair.key) ?? '';
    if (!allowed.includes(key)) problem(pair.key, `${what}: unknown key "${key}" (the harness reads ${allowed.join(', ')})`);
  }
}

/** `image:` as a name, or a mapping with `name`, `entrypoint` and `docker: {user, platform}`. */
export function readImage(node: unknown, problem: Problem): JobImageSpec | undefined {
  const name = text(node);
  if (name !== undefined) return { name };
  if (!isMap(node)) {
    problem(node, '"image" must be an image name or a mapping with "name"');
    return undefined;
  }
  checkKeys(node, ['name', 'entrypoint', 'docker'], 'image', problem);
  const imageName = text(node.get('name', true));
  if (imageName === undefined || imageName === '') problem(node, 'image.name must be an image name');
  const entrypoint = stringList(node.get('entrypoint', true), 'image.entrypoint', problem);
  const docker = node.get('docker', true);
  if (docker !== undefined && !isMap(docker)) problem(docker, 'image.docker must be a mapping with "user" and/or "platform"');
  if (isMap(docker)) checkKeys(docker, ['user', 'platform'], 'image.docker', problem);
  const user = isMap(docker) ? text(docker.get('user', true)) : undefined;
  const platform = isMap(docker) ? text(docker.get('platform', true)) : undefined;
  return {
    name: imageName ?? '',
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(user === undefined ? {} : { user }),
    ...(platform === undefined ? {} : { platform }),
  };
}

function readService(node: unknown, index: number, problem: Problem): JobServiceSpec | undefined {
  const name = text(node);
  if (name !== undefined) return { name };
  if (!isMap(node)) {
    problem(node, `services[${index}] must be an image name or a mapping with "name"`);
    return undefined;
  }
  checkKeys(node, ['name', 'alias', 'entrypoint', 'command', 'variables'], `services[${index}]`, problem);
  const serviceName = text(node.get('name', true)) ?? '';
  if (serviceName === '') problem(node, `services[${index}].name must be an image name`);
  const alias = text(node.get('alias', true));
  const entrypoint = stringList(node.get('entrypoint', true), `services[${index}].entrypoint`, problem);
  const command = stringList(node.get('command', true), `services[${index}].command`, problem);
  const variablesNode = node.get('variables', true);
  const variables: Record<string, string> = {};
  if (variablesNode !== undefined && !isMap(variablesNode)) problem(variablesNode, `services[${index}].variables must be a mapping of NAME: value`);
  if (isMap(variablesNode)) {
    for (const pair of variablesNode.items) {
      const key = text(pair.key);
      const value = isScalar(pair.value) ? String(pair.value.value) : undefined;
      if (key === undefined || value === undefined) problem(pair.key, `services[${index}].variables: each must be NAME: value`);
      else variables[key] = value;
    }
  }
  return {
    name: serviceName,
    ...(alias === undefined ? {} : { alias }),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(command === undefined ? {} : { command }),
    ...(Object.keys(variables).length === 0 ? {} : { variables }),
  };
}

/** `services:`: a list of names or mappings. */
export function readServices(node: unknown, problem: Problem): JobServiceSpec[] {
  if (!isSeq(node)) {
    problem(node, '"services" must be a list');
    return [];
  }
  return node.items.flatMap((item, index) => readService(item, index, problem) ?? []);
}

/** The payload's `image` as gitlab-runner receives it (`{name: ""}` for none). */
export function imagePayload(image: JobImageSpec | undefined): object {
  if (image === undefined) return { name: '' };
  const docker = {
    ...(image.user === undefined ? {} : { user: image.user }),
    ...(image.platform === undefined ? {} : { platform: image.platform }),
  };
  return {
    name: image.name,
    ...(image.entrypoint === undefined ? {} : { entrypoint: image.entrypoint }),
    ...(Object.keys(docker).length === 0 ? {} : { executor_opts: { docker } }),
  };
}

/** The payload's `services`. */
export function servicesPayload(services: readonly JobServiceSpec[]): object[] {
  return services.map((service) => ({
    name: service.name,
    ...(service.alias === undefined ? {} : { alias: service.alias }),
    ...(service.entrypoint === undefined ? {} : { entrypoint: service.entrypoint }),
    ...(service.command === undefined ? {} : { command: service.command }),
    ...(service.variables === undefined ? {} : { variables: Object.entries(service.variables).map(([key, value]) => ({ key, value })) }),
  }));
}
