import { readFileSync } from 'node:fs';
import { SystemFailure, messageOf } from '../errors.js';
import { expandVariables } from './expand.js';

/**
 * The job's `image:` and `services:` as gitlab-runner hands them to a custom executor: `JOB_RESPONSE_FILE` holds its
 * `Build.Job` as JSON (field names from `common/spec/spec.go`, https://github.com/gitlabhq/gitlab-runner/blob/main/common/spec/spec.go:
 * `Image{name, alias, command, entrypoint, ports, variables, pull_policy, executor_opts{docker{platform, user}}}`,
 * `Services []Image`, `Variable{key, value, public, file, masked, raw}`). GitLab's docs prefer the file to
 * `CUSTOM_ENV_*` because job variables can override those.
 */

/** One job variable from the payload. */
export interface JobVariable {
  readonly key: string;
  readonly value: string;
  /** Visible to anyone who can see the pipeline's configuration (`.gitlab-ci.yml` and predefined variables). */
  readonly public: boolean;
  readonly masked: boolean;
  /** A file-type variable: `value` is the file's content. */
  readonly file: boolean;
  /** Not to be expanded (`expand: false`). */
  readonly raw: boolean;
}

/** A port a service declares (`.gitlab-webide.yml` sessions, or a service's `ports`). */
export interface ServicePort {
  readonly number: number;
  readonly protocol?: string;
}

/** The job's build image. */
export interface JobImage {
  /** As the job wrote it, variables expanded (e.g. `ruby:3.3`, `registry.example.com/group/app@sha256:…`). */
  readonly name: string;
  /** `image: entrypoint:`; absent (or `[""]`) = the agent's entry point. */
  readonly entrypoint?: readonly string[];
  /** `image: docker: user:` (a name or `uid[:gid]`). */
  readonly user?: string;
  /** `image: docker: platform:` (e.g. `linux/arm64`). */
  readonly platform?: string;
}

/** One entry of `services:`. */
export interface JobService {
  readonly name: string;
  /** `alias:` as written ("a,b" or "a b"), variables expanded; empty when not given. */
  readonly alias: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  /** The service's own `variables:`. */
  readonly variables: readonly JobVariable[];
  readonly ports: readonly ServicePort[];
}

/** What the job asks for. */
export interface JobImageRequest {
  /** Absent when the job names no image. */
  readonly image?: JobImage;
  readonly services: readonly JobService[];
  /** The job's variables, in the payload's order (a later one of the same key wins). */
  readonly variables: readonly JobVariable[];
  /** Where this came from: the payload, or `CUSTOM_ENV_CI_JOB_IMAGE` for a runner that writes none. */
  readonly source: 'payload' | 'environment';
}

type Json = Record<string, unknown>;

/** A malformed payload: names the file, the JSON path, what was expected and what was found. */
function malformed(file: string, path: string, expected: string, found: unknown): SystemFailure {
  const shown = found === undefined ? 'nothing' : found === null ? 'null' : Array.isArray(found) ? 'an array' : typeof found;
  return new SystemFailure(
    `JOB_RESPONSE_FILE ${file}: ${path}: expected ${expected}, found ${shown}; gitlab-runner writes this file itself: ` +
      'check that the runner is gitlab-runner 15 or newer and that nothing else rewrites the file',
  );
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(file: string, path: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw malformed(file, path, 'a string', value);
  return value;
}

function optionalStrings(file: string, path: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw malformed(file, path, 'an array of strings', value);
  return value as string[];
}

/** gitlab-runner's `StringOrInt64`: `user: 1000` and `user: "1000:1000"` are both allowed. */
function optionalUser(file: string, path: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return optionalString(file, path, value);
}

function readVariables(file: string, path: string, value: unknown): JobVariable[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(file, path, 'an array of variables', value);
  return value.map((entry, index) => {
    const at = `${path}[${index}]`;
    if (!isObject(entry) || typeof entry['key'] !== 'string') throw malformed(file, `${at}.key`, 'a string', isObject(entry) ? entry['key'] : entry);
    const flag = (name: string): boolean => {
      const flagValue = entry[name];
      if (flagValue !== undefined && flagValue !== null && typeof flagValue !== 'boolean') throw malformed(file, `${at}.${name}`, 'true or false', flagValue);
      return flagValue === true;
    };
    return {
      key: entry['key'],
      value: optionalString(file, `${at}.value`, entry['value']) ?? '',
      public: flag('public'),
      masked: flag('masked'),
      file: flag('file'),
      raw: flag('raw'),
    };
  });
}

function readPorts(file: string, path: string, value: unknown): ServicePort[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(file, path, 'an array of ports', value);
  return value.map((entry, index) => {
    const number = isObject(entry) ? entry['number'] : undefined;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535) {
      throw malformed(file, `${path}[${index}].number`, 'a port from 1 to 65535', number);
    }
    const protocol = optionalString(file, `${path}[${index}].protocol`, (entry as Json)['protocol']);
    return protocol === undefined || protocol === '' ? { number } : { number, protocol };
  });
}

/** `image:`; undefined when the job names none (no object, or an empty name). */
function readImage(file: string, value: unknown, expand: (text: string) => string): JobImage | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw malformed(file, 'image', 'an object', value);
  const name = expand(optionalString(file, 'image.name', value['name']) ?? '').trim();
  if (name === '') return undefined;
  const options = value['executor_opts'];
  const docker = isObject(options) && isObject(options['docker']) ? options['docker'] : {};
  const entrypoint = optionalStrings(file, 'image.entrypoint', value['entrypoint']);
  const user = optionalUser(file, 'image.executor_opts.docker.user', docker['user']);
  const platform = optionalString(file, 'image.executor_opts.docker.platform', docker['platform']);
  return {
    name,
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(user === undefined || user === '' ? {} : { user: expand(user) }),
    ...(platform === undefined || platform === '' ? {} : { platform: expand(platform) }),
  };
}

function readServices(file: string, value: unknown, expand: (text: string) => string): JobService[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(file, 'services', 'an array', value);
  return value.map((entry, index): JobService => {
    const at = `services[${index}]`;
    if (!isObject(entry)) throw malformed(file, at, 'an object', entry);
    const name = expand(optionalString(file, `${at}.name`, entry['name']) ?? '').trim();
    if (name === '') throw malformed(file, `${at}.name`, 'a service image name', entry['name'] === '' ? 'an empty string' : entry['name']);
    const entrypoint = optionalStrings(file, `${at}.entrypoint`, entry['entrypoint']);
    const command = optionalStrings(file, `${at}.command`, entry['command']);
    return {
      name,
      alias: expand(optionalString(file, `${at}.alias`, entry['alias']) ?? ''),
      ...(entrypoint === undefined ? {} : { entrypoint }),
      ...(command === undefined ? {} : { command }),
      variables: readVariables(file, `${at}.variables`, entry['variables']),
      ports: readPorts(file, `${at}.ports`, entry['ports']),
    };
  });
}

/**
 * Reads the job's image, services and variables from the payload's text. Names and aliases are expanded against the
 * job's variables, as gitlab-runner does before any executor sees them (`expandContainerOptions` in
 * `common/build.go`); a runner that already did so leaves nothing to expand.
 * @throws SystemFailure naming the file, the JSON path and what was wrong.
 */
export function parseJobImageRequest(text: string, file: string): JobImageRequest {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new SystemFailure(`JOB_RESPONSE_FILE ${file} is not valid JSON (${messageOf(error)})`);
  }
  if (!isObject(payload)) throw malformed(file, '(the document)', 'a JSON object', payload);
  const variables = readVariables(file, 'variables', payload['variables']);
  const expand = (value: string): string => expandVariables(value, variables).value;
  const image = readImage(file, payload['image'], expand);
  return { ...(image === undefined ? {} : { image }), services: readServices(file, payload['services'], expand), variables, source: 'payload' };
}

/**
 * The job's image request: from `JOB_RESPONSE_FILE` when the runner wrote one, else the image alone from
 * `CUSTOM_ENV_CI_JOB_IMAGE` (no services: the custom executor passes them in no variable).
 */
export function readJobImageRequest(env: NodeJS.ProcessEnv): JobImageRequest {
  const file = env['JOB_RESPONSE_FILE'];
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new SystemFailure(`JOB_RESPONSE_FILE ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`, { cause: error });
    }
    return parseJobImageRequest(text, file);
  }
  const name = env['CUSTOM_ENV_CI_JOB_IMAGE']?.trim() ?? '';
  return { ...(name === '' ? {} : { image: { name } }), services: [], variables: [], source: 'environment' };
}
